/**
 * Not an error: a command's answer is its exit code (`diploid diff` exits 1 when there is a
 * difference, as `diff` and `kubectl diff` do). The CLI's entry returns the code and prints nothing.
 */
export class ExitCode extends Error {
  override readonly name = 'ExitCode';
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
