/**
 * Why the controller could not serve (or refused) a configuration. The code is stable; `group` and
 * `resource` say where, `message` says why in words an operator can act on.
 */
export type ControllerErrorCode =
  /** The stored model does not validate (a pre-existing problem); nothing is published from it. */
  | 'INVALID_MODEL'
  /** No workload matches a node group (not registered yet, deleted, or ambiguous labels). */
  | 'NO_WORKLOAD'
  /** translate/ cannot express the model for this group (e.g. a proxyless server without a port). */
  | 'UNTRANSLATABLE'
  /** The translated resources reference something missing (checkConsistency / snapshot check). */
  | 'INCONSISTENT'
  /** The xDS cache refused the snapshot. */
  | 'PUBLISH_REFUSED';

export class ControllerError extends Error {
  override readonly name = 'ControllerError';
  constructor(
    readonly code: ControllerErrorCode,
    message: string,
    readonly details: { readonly group?: string; readonly resource?: string; readonly cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  static is(err: unknown, code?: ControllerErrorCode): err is ControllerError {
    return err instanceof ControllerError && (code === undefined || err.code === code);
  }
}
