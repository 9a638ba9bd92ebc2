/**
 * A mistake of the user's (bad config, unknown environment, missing file). Its message reads
 * like advice; the CLI prints it without a stack and exits non-zero.
 */
export class UserError extends Error {
  override readonly name: string = 'UserError';
}

/**
 * A failure that may go away on its own (an API server answering 5xx, a timeout, a registry that
 * did not answer): the controller tries the same work again later, with backoff. Lives here, below
 * both the cluster code that throws it and the controller that acts on it.
 */
export class RetryableError extends Error {
  override readonly name: string = 'RetryableError';
  /** A CamelCase reason for the status condition, where one says more than `RetryScheduled`. */
  readonly reason: string | undefined;
}

/**
 * A failure that retrying the same commit cannot fix (a configuration problem, an object the API
 * server refuses, a failed build): the environment is marked Stalled until a new commit arrives.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  /** A CamelCase reason for the status condition, e.g. `BuildFailed`. */
  constructor(readonly reason: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** One problem found in the user's configuration. */
export interface ConfigProblem {
  /** File the problem is in, relative to the ops repo when possible. */
  readonly file: string;
  /** Path inside the file's value, e.g. `services.api.ports[0].port`. */
  readonly path: string;
  /** What is wrong and what was expected. */
  readonly message: string;
  /** 1-based line in the file, where it could be found. */
  readonly line?: number;
}

/** Every problem of a configuration at once, so users fix them in one round. */
export class ConfigError extends UserError {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(formatProblems(problems));
  }
}

/** A bug in diploid itself: the message says so, and the stack is kept. */
export class InternalError extends Error {
  override readonly name = 'InternalError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(`internal error (a bug in diploid, please report it): ${message}`, options);
  }
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  const lines = problems.map((problem) => {
    const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
    const path = problem.path === '' ? '' : ` ${problem.path}:`;
    return `  ${where}${path} ${problem.message}`;
  });
  return [`${count} in the configuration:`, ...lines].join('\n');
}
