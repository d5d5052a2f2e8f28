export function meshwardAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  unreachable();
}
