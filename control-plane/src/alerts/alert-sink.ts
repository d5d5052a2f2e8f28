/**
 * Where alerts go. A sink delivers one event or throws; the {@link SinkDispatcher} owns queuing,
 * retries and drop accounting, so a sink stays a thin I/O edge.
 */
import type { Alert } from './alert-store.js';

/** A state change of an alert, as delivered to sinks. */
export interface AlertEvent {
  /** `fired` when the alert opens, `resolved` when it closes. */
  readonly type: 'fired' | 'resolved';
  readonly alert: Alert;
}

/** Thrown by a sink for a failure that a retry cannot fix (e.g. a webhook's 400): no retry. */
export class PermanentSinkError extends Error {
  override readonly name = 'PermanentSinkError';
}

export interface AlertSink {
  /** Unique among the dispatcher's sinks; a metrics label. */
  readonly name: string;
  /** Delivers one event; resolves once the receiver has it (or the bytes are written), throws otherwise. */
  send(event: AlertEvent): Promise<void>;
  /** Releases connections / file handles. */
  close?(): Promise<void>;
}

/** The JSON document sinks send for an event (webhook body, JSON-lines line, syslog JSON message). */
export function eventDocument(event: AlertEvent): Record<string, unknown> {
  const a = event.alert;
  return {
    type: event.type,
    id: a.id,
    rule: a.rule,
    severity: a.severity,
    state: a.state,
    dimension: a.dimension,
    key: a.key,
    signal: a.signal,
    value: a.value ?? null,
    score: a.score ?? null,
    threshold: a.threshold ?? null,
    firedAt: a.firedAt,
    resolvedAt: a.resolvedAt ?? null,
    summary: a.summary,
    labels: a.labels,
  };
}
