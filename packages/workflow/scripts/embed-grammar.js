// Embeds src/parse/jcl.peggy into src/parse/jcl-grammar.ts as a string, so that the grammar
// travels with the compiled JavaScript (tsc copies no .peggy files into dist) and is compiled by
// peggy when the parser module loads. Run after editing jcl.peggy: `npm run grammar -w @drover/workflow`.
// A unit test fails while the two differ.
import { readFileSync, writeFileSync } from 'node:fs';

const peggyFile = new URL('../src/parse/jcl.peggy', import.meta.url);
const tsFile = new URL('../src/parse/jcl-grammar.ts', import.meta.url);
const text = readFileSync(peggyFile, 'utf8');
writeFileSync(
  tsFile,
  '// Generated from jcl.peggy by scripts/embed-grammar.js: edit jcl.peggy, then run\n' +
    '// `npm run grammar -w @drover/workflow`. The tsc build copies no .peggy file, so the grammar ships as this string.\n\n' +
    '/** The text of jcl.peggy: JobCenter\'s workflow language (JCL) as a peggy grammar. */\n' +
    `export const JCL_GRAMMAR: string = ${JSON.stringify(text)};\n`,
);
