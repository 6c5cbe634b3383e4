/**
 * Named errors of the recognition stage. The gateway maps them in one place; everything a caller
 * may want to tell apart gets its own class and a stable `name` that survives a worker boundary.
 */

/** The image handed to recognize() is not a valid packed-RGB image (or is absurdly large). */
export class InvalidImageError extends Error {
  override readonly name = 'InvalidImageError';
}

/** recognize() was called after close(). */
export class RecognizerClosedError extends Error {
  override readonly name = 'RecognizerClosedError';
  constructor(message = 'recognizer is closed') {
    super(message);
  }
}

/** The model files could not be found or loaded. */
export class ModelLoadError extends Error {
  override readonly name: string = 'ModelLoadError';
}

/** What is wrong with a model pack, kept as fields so a caller can act on it (and it survives a worker). */
export interface ModelPackProblem {
  /** The pack's name as selected or as found on disk. */
  readonly pack: string;
  /** The file concerned, relative to the pack; absent when the pack as a whole is at fault. */
  readonly file?: string;
  /** What was wrong, in words. */
  readonly problem: string;
}

/**
 * A model pack that cannot be used: unknown name, bad manifest, missing file, wrong sha256 or
 * size, a model whose tensors do not match the manifest. A ModelLoadError, so callers that only
 * care that models failed to load need not know about packs.
 */
export class ModelPackError extends ModelLoadError implements ModelPackProblem {
  override readonly name: string = 'ModelPackError';
  readonly pack: string;
  readonly file?: string;
  readonly problem: string;

  constructor(problem: ModelPackProblem) {
    super(`model pack "${problem.pack}"${problem.file !== undefined ? `, file ${problem.file}` : ''}: ${problem.problem}`);
    this.pack = problem.pack;
    if (problem.file !== undefined) this.file = problem.file;
    this.problem = problem.problem;
  }
}

/** The inference worker died or did not answer in time; the worker recogniser restarts it. */
export class RecognizerWorkerError extends Error {
  override readonly name = 'RecognizerWorkerError';
}

/** The caller's AbortSignal fired before the result was ready. */
export class RecognitionAbortedError extends Error {
  override readonly name = 'RecognitionAbortedError';
  constructor(message = 'recognition aborted') {
    super(message);
  }
}

/** Fields beyond name and message that an error carries across a worker boundary. */
export function errorDetails(err: unknown): ModelPackProblem | undefined {
  if (err instanceof ModelPackError) {
    return { pack: err.pack, problem: err.problem, ...(err.file !== undefined && { file: err.file }) };
  }
  return undefined;
}

/** Rebuilds a named error that crossed a worker boundary as `{ name, message, details? }`. */
export function reviveError(name: string, message: string, details?: ModelPackProblem): Error {
  switch (name) {
    case 'ModelPackError':
      return details ? new ModelPackError(details) : new ModelLoadError(message);
    case 'InvalidImageError':
      return new InvalidImageError(message);
    case 'RecognizerClosedError':
      return new RecognizerClosedError(message);
    case 'ModelLoadError':
      return new ModelLoadError(message);
    case 'RecognitionAbortedError':
      return new RecognitionAbortedError(message);
    default: {
      // Anything else (an ONNX Runtime or sharp failure) keeps its name and message.
      const err = new Error(message);
      err.name = name;
      return err;
    }
  }
}
