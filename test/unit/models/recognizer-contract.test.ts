import { createRecognizer } from '../../../models/index.ts';
import { scriptedRead } from '../../../models/scripted-recognizer.ts';
import { CONTRACT_PLATE, describeRecognizerContract } from './recognizer-contract.ts';

describeRecognizerContract('scripted', () => createRecognizer({ kind: 'scripted', script: [scriptedRead(CONTRACT_PLATE)] }));
describeRecognizerContract('onnx, in-thread', () => createRecognizer({ kind: 'onnx', inWorker: false, threads: 1 }));
describeRecognizerContract('onnx, in a worker', () => createRecognizer({ kind: 'onnx', inWorker: true, threads: 1 }));
