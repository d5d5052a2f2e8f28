/** Raised when a (validated) model cannot be translated for a node group; names what and why. */
export type TranslateErrorCode = 'NO_WORKLOAD' | 'ROLE_MISMATCH' | 'UNSUPPORTED';

export class TranslateError extends Error {
  constructor(
    readonly code: TranslateErrorCode,
    /** The model resource at fault, e.g. `workload "ns/name"` or `model "chat" versions[0]`. */
    readonly resource: string,
    readonly reason: string,
  ) {
    super(`${resource}: ${reason}`);
    this.name = 'TranslateError';
  }
}
