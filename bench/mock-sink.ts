// A mock backend (smtp-server, the simulator's own) in a process of its own, as a
// Node sink for the relay benchmark. Prints its port on stdout.
import { MockBackend } from '../simulator/mock-backend.ts';

const mock = await new MockBackend({ name: 'bench', keepRaw: false }).start();
process.stdout.write(`${mock.port}\n`);
process.on('SIGTERM', () => void mock.stop().then(() => process.exit(0)));
