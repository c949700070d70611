import { GLOBAL_OPTIONS } from './args.js';

/** What completion needs to know of a command. */
export interface Completable {
  name: string;
  verbs: string[];
}

export const SHELLS = ['bash', 'zsh'];

/**
 * A completion script for `shell`, generated from the command table so it never lists a
 * command the CLI does not have: command names first, then the command's verbs, and the
 * global options wherever a word starts with '-'. zsh uses the same function through its
 * bash compatibility (bashcompinit), so there is one completion logic, not two.
 */
export function completionScript(shell: string, commands: Completable[]): string {
  const options = [...GLOBAL_OPTIONS.values, ...GLOBAL_OPTIONS.flags].map((o) => `--${o}`).join(' ');
  const valued = GLOBAL_OPTIONS.values.map((o) => `--${o}`).join('|');
  const cases = commands
    .filter((c) => c.verbs.length > 0)
    .map((c) => `      ${c.name}) words="${c.verbs.join(' ')}" ;;`)
    .join('\n');
  const fn = `_nodee() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" nwords=0 words="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in
      ${valued}) ((i++)) ;;
      -*) ;;
      *) [[ -z "$cmd" ]] && cmd="$w"; ((nwords++)) ;;
    esac
  done
  if [[ "$cur" == -* ]]; then
    words="${options}"
  elif ((nwords == 0)); then
    words="${commands.map((c) => c.name).join(' ')}"
  elif ((nwords == 1)); then
    case "$cmd" in
${cases}
    esac
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _nodee nodee
`;
  if (shell === 'bash') return `# nodee completion for bash: source <(nodee completion bash)\n${fn}`;
  return `# nodee completion for zsh: source <(nodee completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n${fn}`;
}
