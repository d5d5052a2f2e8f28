// Typed emulator errors, one code per failure kind (mapped in one place: EMULATOR_ERROR_CODES).

export const EMULATOR_ERROR_CODES = {
  /** The module does not link the way Envoy would link it (missing import, no ABI marker...). */
  LINK_FAILED: 'LINK_FAILED',
  /** proxy_on_vm_start or proxy_on_configure returned false, or the guest trapped during start. */
  PLUGIN_START_FAILED: 'PLUGIN_START_FAILED',
  /** The test drove the emulator in a way Envoy never would (e.g. body after end of stream). */
  INVALID_USAGE: 'INVALID_USAGE',
  /** A bad option passed to createEnvoyHost / newStream. */
  INVALID_OPTION: 'INVALID_OPTION',
} as const;
export type EmulatorErrorCode = keyof typeof EMULATOR_ERROR_CODES;

export class EmulatorError extends Error {
  readonly code: EmulatorErrorCode;
  constructor(code: EmulatorErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = 'EmulatorError';
    this.code = code;
  }
}
