// Logging through proxy_log, gated on the host's level so a disabled level costs one comparison
// and builds no string. The level is cached: Envoy changes it only through its admin API, so we
// refresh it at VM start and on every plugin (re)configure (context/base.ts does this), not per
// request. Messages are UTF-8 encoded; a refused log call is ignored.
import { getLogLevel, log as hostLog } from "../abi/calls";
import { LogLevel } from "../abi/types";

let level: i32 = -1;

/** Re-reads the host's log level (Envoy's default is info). */
export function refreshLogLevel(): void {
  const current = getLogLevel();
  level = current < 0 ? <i32>LogLevel.Info : current;
}

/** The cached host log level (read once from the host if never read). */
export function logLevel(): LogLevel {
  if (level < 0) refreshLogLevel();
  return <LogLevel>level;
}

/** True when a message at `at` would be emitted; check it before building an expensive message. */
export function logEnabled(at: LogLevel): bool {
  if (level < 0) refreshLogLevel();
  return <i32>at >= level;
}

/** Logs `message` at `at` when that level is enabled. */
export function log(at: LogLevel, message: string): void {
  if (!logEnabled(at)) return;
  hostLog(<u32>at, String.UTF8.encode(message));
}

export function logTrace(message: string): void {
  log(LogLevel.Trace, message);
}
export function logDebug(message: string): void {
  log(LogLevel.Debug, message);
}
export function logInfo(message: string): void {
  log(LogLevel.Info, message);
}
export function logWarn(message: string): void {
  log(LogLevel.Warn, message);
}
export function logError(message: string): void {
  log(LogLevel.Error, message);
}
export function logCritical(message: string): void {
  log(LogLevel.Critical, message);
}
