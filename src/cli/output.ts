/** Where the CLI writes; tests pass their own to read what a command printed. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export function createOutput(): Output {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
}
