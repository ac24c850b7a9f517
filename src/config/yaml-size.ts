// A bound on what the YAML parser is given. Its time and memory grow with the number of nodes, not bytes:
// 1 MB of `[0,0,0,...]` (500,000 values) took it ~20 s of CPU and 1 GB here, so a 32 MB file under
// CONFIG_FILE_LIMIT could hold the process for many minutes. Every node needs a line or a flow separator of
// its own, so counting lines and `,` `[` `{` (one cheap pass) bounds the nodes from above before parsing.
// Real files are far below the limit: a 10,000-task playbook has ~20,000 lines, a 20,000-host inventory ~40,000.

export const MAX_YAML_MARKS = 100_000;

/** Offset of the line break or flow separator past which `text` holds more than `limit` of them; undefined within. */
export function overYamlLimit(text: string, limit = MAX_YAML_MARKS): number | undefined {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // \n , [ {
    if ((c === 10 || c === 44 || c === 91 || c === 123) && ++count > limit) return i;
  }
  return undefined;
}
