/**
 * RFC 5424 syslog messages for alert events, with the message in CEF (ArcSight Common Event Format,
 * what most SIEMs parse natively) or JSON. Pure; the transport is syslog-sink.ts.
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [meshward@32473 ...] MSG
 *
 * - PRI = facility·8 + severity; facility defaults to 13 (log audit). Alert severities map to
 *   syslog severities: critical→2 (crit), high→3 (err), medium→4 (warning), low→5 (notice),
 *   info→6 (informational); a `resolved` event is 5 (notice).
 * - MSGID is `alert-fired` / `alert-resolved`; the structured data element carries the alert id,
 *   rule, severity and event (32473 is the private enterprise number reserved for documentation,
 *   RFC 5612: replace it with your own with `enterpriseId`).
 * - CEF severity 0–10: info 1, low 3, medium 5, high 8, critical 10.
 */
import type { AlertEvent } from './alert-sink.js';
import { eventDocument } from './alert-sink.js';
import type { Severity } from './alert-rule.js';

export type SyslogFormat = 'cef' | 'json';

export interface SyslogFormatOptions {
  readonly format: SyslogFormat;
  /** 0..23. Defaults to 13 (log audit). */
  readonly facility?: number;
  /** Defaults to the OS host name. */
  readonly hostname: string;
  /** Defaults to `meshward`. */
  readonly appName?: string;
  /** Defaults to 32473. */
  readonly enterpriseId?: number;
  readonly procId?: string;
}

const SYSLOG_SEVERITY: Readonly<Record<Severity, number>> = { critical: 2, high: 3, medium: 4, low: 5, info: 6 };
const CEF_SEVERITY: Readonly<Record<Severity, number>> = { critical: 10, high: 8, medium: 5, low: 3, info: 1 };

/** RFC 5424 §6.3.3: PARAM-VALUE escapes `"`, `\` and `]`. */
const sdEscape = (s: string): string => s.replace(/["\\\]]/g, (c) => `\\${c}`);
/** CEF header fields escape `\` and `|`. */
const cefHeader = (s: string): string => s.replace(/[\\|]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ');
/** CEF extension values escape `\`, `=` and line breaks. */
const cefValue = (s: string): string => s.replace(/[\\=]/g, (c) => `\\${c}`).replace(/\r?\n|\r/g, '\\n');
/** Header fields are PRINTUSASCII without spaces, '-' when empty. */
const headerField = (s: string, max: number): string => {
  const v = s.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return v === '' ? '-' : v;
};

export function cefMessage(event: AlertEvent): string {
  const a = event.alert;
  const ext: [string, string | number | undefined][] = [
    ['rt', Date.parse(event.type === 'resolved' ? (a.resolvedAt ?? a.firedAt) : a.firedAt)],
    ['act', event.type],
    ['externalId', a.id],
    ['cs1Label', 'dimension'],
    ['cs1', a.dimension],
    ['cs2Label', 'seriesKey'],
    ['cs2', a.key],
    ['cs3Label', 'signal'],
    ['cs3', a.signal],
    ['cfp1Label', 'value'],
    ['cfp1', a.value],
    ['cfp2Label', 'score'],
    ['cfp2', a.score],
    ['cfp3Label', 'threshold'],
    ['cfp3', a.threshold],
    ['suser', a.dimension === 'identity' ? a.key : undefined],
    ['msg', a.summary],
  ];
  const extension = ext
    .filter(([, v]) => v !== undefined && !(typeof v === 'number' && !Number.isFinite(v)))
    .map(([k, v]) => `${k}=${cefValue(String(v))}`)
    .join(' ');
  return `CEF:0|meshward|meshward-control-plane|1|${cefHeader(a.rule)}|${cefHeader(`${a.rule} ${event.type}`)}|${CEF_SEVERITY[a.severity]}|${extension}`;
}

export function syslogMessage(event: AlertEvent, options: SyslogFormatOptions, at: Date = new Date()): string {
  const facility = options.facility ?? 13;
  const severity = event.type === 'resolved' ? 5 : SYSLOG_SEVERITY[event.alert.severity];
  const pri = facility * 8 + severity;
  const a = event.alert;
  const sd = `[meshward@${options.enterpriseId ?? 32473} alertId="${a.id}" rule="${sdEscape(a.rule)}" severity="${a.severity}" event="${event.type}"]`;
  const msg = options.format === 'cef' ? cefMessage(event) : JSON.stringify(eventDocument(event));
  return `<${pri}>1 ${at.toISOString()} ${headerField(options.hostname, 255)} ${headerField(options.appName ?? 'meshward', 48)} ${headerField(options.procId ?? String(process.pid), 128)} alert-${event.type} ${sd} ${msg}`;
}

/** RFC 6587 octet-counting frame: `<length> <message>`. */
export function octetCountingFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}
