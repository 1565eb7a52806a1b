#!/usr/bin/env node
import { main } from './main.ts';

// `orchestr8 status | head -1`: the reader left. Nothing more can be said to it, but the
// command still ends normally (an owning `run` finishes its run) instead of dying on a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
});

void main(process.argv).then((code) => {
  process.exitCode = code;
});
