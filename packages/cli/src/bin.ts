#!/usr/bin/env node
import { main } from './main.js';

// Exit explicitly: after a graceful stop, a handler that ignored its abort signal may still hold a
// timer, and its job has already been given back. stdout and stderr are synchronous for files and
// pipes on POSIX, so nothing written is lost.
process.exit(await main(process.argv.slice(2), process.env));
