/** A mistake in how the command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  readonly code = 'CLI_USAGE';

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
