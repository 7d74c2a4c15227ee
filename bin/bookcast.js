#!/usr/bin/env node
'use strict';
// The CLI runs the compiled TypeScript; `npm install` builds it (prepare script).
const path = require('node:path');
const fs = require('node:fs');
const main = path.join(__dirname, '..', 'dist', 'src', 'main.js');
if (!fs.existsSync(main)) {
  console.error('bookcast: not built yet; run `npm install` (or `npm run build`) in the checkout first');
  process.exit(1);
}
require(main);
