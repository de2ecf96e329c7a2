/** The replay's one error class: a scenario that cannot be read, naming the file and line. */

export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
  readonly file: string;
  /** 1-based line of the file, or null for the file as a whole. */
  readonly line: number | null;

  constructor(file: string, line: number | null, message: string, options?: ErrorOptions) {
    super(`${file}${line === null ? "" : `:${line}`}: ${message}`, options);
    this.file = file;
    this.line = line;
  }
}
