/**
 * Worker-thread body: owns one OnnxPlateRecognizer and answers recognize requests one at a time.
 * Started by WorkerPlateRecognizer through worker-bootstrap.mjs (which makes .ts importable).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorDetails, type ModelPackProblem } from './errors.ts';
import { validateImage } from './image.ts';
import { OnnxPlateRecognizer } from './onnx-recognizer.ts';
import type { RgbImage } from './types.ts';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.ts';
import { toRgb } from './yuv.ts';

function errorFields(err: unknown): { name: string; message: string; details?: ModelPackProblem } {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const details = errorDetails(err);
  return { name: err.name, message: err.message, ...(details && { details }) };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('models/worker.ts must run in a worker thread');
  const post = (msg: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);
  const { options } = workerData as WorkerInit;
  let recognizer: OnnxPlateRecognizer;
  try {
    recognizer = await OnnxPlateRecognizer.create(options);
  } catch (err) {
    post({ type: 'fatal', ...errorFields(err) });
    return;
  }
  // Requests are handled strictly in order; ONNX sessions already use their own threads.
  let queue = Promise.resolve();
  // RGB of the last camera frame (I420) read, reused for the next one of the same size: the
  // recogniser keeps no reference to its input once it has answered.
  let rgb = new Uint8Array(0);
  port.on('message', (msg: ToWorker) => {
    queue = queue.then(async () => {
      switch (msg.type) {
        case 'recognize': {
          // The pixels go back to the caller for its next copy, if they came as a whole buffer
          // (the recogniser keeps no reference to them once it has answered).
          const whole = msg.data.byteOffset === 0 && msg.data.byteLength === msg.data.buffer.byteLength && !(msg.data.buffer instanceof SharedArrayBuffer);
          const input = whole ? { input: msg.data } : {};
          const back = whole ? [msg.data.buffer as ArrayBuffer] : [];
          try {
            let image: RgbImage = { width: msg.width, height: msg.height, data: msg.data };
            if (msg.format === 'i420') {
              if (rgb.length !== msg.width * msg.height * 3) rgb = new Uint8Array(msg.width * msg.height * 3);
              validateImage({ format: 'i420', width: msg.width, height: msg.height, data: msg.data });
              image = toRgb({ format: 'i420', width: msg.width, height: msg.height, data: msg.data }, rgb);
            }
            const result = await recognizer.recognize(image);
            const crops = result.reads.map((r) => r.crop.buffer as ArrayBuffer);
            post({ type: 'result', id: msg.id, result, ...input }, [...new Set([...crops, ...back])]);
          } catch (err) {
            post({ type: 'error', id: msg.id, ...errorFields(err), ...input }, back);
          }
          break;
        }
        case 'close':
          await recognizer.close();
          post({ type: 'closed' });
          port.close();
          break;
      }
    });
  });
  post({ type: 'ready', modelVersion: recognizer.modelVersion });
}

void main();
