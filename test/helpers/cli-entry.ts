// What bin/onnxpress.js does, on the sources: the child process runCli spawns.
import { main } from '../../src/cli.js';

process.exitCode = await main(process.argv.slice(2));
