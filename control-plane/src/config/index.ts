/** The control plane's settings: reference table, pure parser, and the file/env loading edge. */
export {
  SETTINGS_REFERENCE,
  CONFIG_ENV,
  LOG_LEVELS,
  XDS_TLS_MODES,
  XDS_TRANSPORTS,
  API_TLS_MODES,
  ALS_AUTHENTICATION_MODES,
  SYSLOG_TRANSPORTS,
  SYSLOG_FORMATS,
  type AlsAuthenticationMode,
  type AlertSinkSettings,
  type SyslogTransport,
  type SyslogFormat,
  type Settings,
  type SettingReference,
  type LogLevel,
  type XdsTlsMode,
  type XdsTransport,
  type ApiTlsMode,
} from './settings.js';
export { parseSettings, type SettingsInput } from './parse-settings.js';
export { loadSettings, configPathOf, parseConfigDocument, type LoadSettingsOptions, type LoadedSettings } from './load-settings.js';
export { SettingsError, formatIssue, type SettingIssue } from './settings-error.js';
export { parseDuration, formatDuration } from './duration.js';
