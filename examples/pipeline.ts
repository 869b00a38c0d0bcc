/**
 * A small file pipeline: count the words of every text file in a directory with shell tools
 * (one script task per file, in parallel), merge the counts, report the top words.
 *
 *   node bin/redun.mjs --config examples/.redun run examples/pipeline.ts main --data examples/data
 *
 * Run it again and everything is replayed. `touch examples/data/tyger.txt` reruns `main` and
 * that file's count only (its output is hashed by content, so the unchanged counts stop the
 * rerun there); editing a file reruns its count, the merge and the report. Deleting an output in
 * `--out` reruns the step that wrote it. `--data` and `--out` may be `s3://bucket/prefix`
 * too: inputs are staged to a temporary directory before each command, outputs copied back.
 */
import os from "node:os";
import path from "node:path";
import { Dir, File, namespace, script } from "redun";

const { task } = namespace("pipeline");

/** Where outputs go unless `--out` says otherwise. */
const DEFAULT_OUT = path.join(os.tmpdir(), "redun-example-pipeline");

/**
 * Word counts of one text file, as `word<TAB>count` lines: a shell pipeline over the staged
 * input, run in a temporary directory; the result is the output File.
 */
export const countWords = task(function countWords(input: File, out: string) {
  return script(
    `
    tr -cs 'A-Za-z' '\\n' < input.txt | tr 'A-Z' 'a-z' | grep -v '^$' \\
      | sort | uniq -c | awk '{ print $2 "\\t" $1 }' > counts.tsv
    `,
    {
      inputs: [input.stage("input.txt")],
      outputs: new File(`${out}/${input.basename()}.counts.tsv`, { hashMode: "content" }).stage(
        "counts.tsv",
      ),
      tempDir: true,
    },
  );
});

/** Sums the counts of every file: `count<TAB>word` lines, most frequent first. */
export const mergeCounts = task(function mergeCounts(parts: File[], out: string) {
  return script(
    `
    cat part-*.tsv \\
      | awk -F'\\t' '{ n[$1] += $2 } END { for (w in n) print n[w] "\\t" w }' \\
      | sort -k1,1nr -k2,2 > all.tsv
    `,
    {
      inputs: parts.map((part, i) => part.stage(`part-${i}.tsv`)),
      outputs: new File(`${out}/all.tsv`, { hashMode: "content" }).stage("all.tsv"),
      tempDir: true,
    },
  );
});

/** The `top` most frequent words, one `word: count` per line. */
export const report = task(async function report(merged: File, top: number) {
  const rows = (await merged.read()).trim().split("\n").slice(0, top);
  return rows
    .map((row) => row.split("\t"))
    .map(([count, word]) => `${word}: ${count}`)
    .join("\n");
});

/** Every `*.txt` in `data`, counted in parallel, merged, reported. */
export const main = task(async function main(data: Dir, out: string = DEFAULT_OUT, top = 5) {
  const inputs = await data.glob("*.txt");
  if (inputs.length === 0) throw new Error(`no *.txt files in ${data.path}`);
  const counts = inputs.map((input) => countWords(input, out));
  return report(mergeCounts(counts, out), top);
});
