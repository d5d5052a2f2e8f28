/** One rejected setting: which one, where its value came from, and why it was refused. */
export interface SettingIssue {
  /** Dotted name as in the config file, e.g. `xds.port`. */
  readonly setting: string;
  /** Where the refused value came from: `env MESHWARD_XDS_PORT`, `file meshward.yaml`, `--config`, `default`. */
  readonly source: string;
  readonly reason: string;
}

/**
 * Start-up refused because of the settings. The message names every bad setting, its source and
 * the reason, one per line, so `main` can print it as is.
 */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  readonly code = 'INVALID_SETTINGS' as const;
  readonly issues: readonly SettingIssue[];

  constructor(issues: readonly SettingIssue[], options?: { cause?: unknown }) {
    super(
      issues.length === 1
        ? `invalid setting ${formatIssue(issues[0]!)}`
        : `invalid settings:\n${issues.map((i) => `  - ${formatIssue(i)}`).join('\n')}`,
      options,
    );
    this.issues = issues;
  }

  static is(err: unknown): err is SettingsError {
    return err instanceof SettingsError;
  }
}

export function formatIssue(i: SettingIssue): string {
  return `${i.setting} (${i.source}): ${i.reason}`;
}
