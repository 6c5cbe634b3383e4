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
  override readonly name = 'ModelLoadError';
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

/** Rebuilds a named error that crossed a worker boundary as `{ name, message }`. */
export function reviveError(name: string, message: string): Error {
  switch (name) {
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
