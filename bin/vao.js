#!/usr/bin/env node
// Runs the TypeScript CLI directly: the project ships sources, and tsx compiles them on load.
require('tsx/cjs/api').register();
require('../src/cli/index.ts');
