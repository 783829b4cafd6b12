#!/bin/sh
# The shell completions as `make install` puts them: bash's file, sourced,
# registers _leafio for leafio and completes subcommands, options and codec
# names (asked of the leafio being completed); zsh's file parses.
set -eu

top=${LF_TOP_BUILDDIR:-..}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leafio-completion-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail () { echo "FAIL: $*" >&2; exit 1; }

${MAKE:-make} -s -C "$top/tools" DESTDIR="$tmp/root" \
  install-dist_bashcompletionDATA install-dist_zshcompletionDATA >/dev/null
bash_file=$(find "$tmp/root" -path '*completions/leafio' -type f)
zsh_file=$(find "$tmp/root" -path '*zsh/site-functions/_leafio' -type f)
[ -n "$bash_file" ] || fail "no bash completion installed: $(find "$tmp/root" -type f)"
[ -n "$zsh_file" ] || fail "no zsh completion installed: $(find "$tmp/root" -type f)"

if command -v bash >/dev/null 2>&1; then
  PATH="$top/tools:$PATH" bash -c '
    fail () { echo "FAIL: $*" >&2; exit 1; }
    . "$1"
    [ "$(complete -p leafio)" = "complete -F _leafio leafio" ] || fail "complete -p: $(complete -p leafio)"
    words () { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _leafio; echo "${COMPREPLY[*]}"; }
    [ "$(words leafio conv)" = convert ] || fail "leafio conv<TAB>: $(words leafio conv)"
    [ "$(words leafio s)" = "skeleton show" ] || fail "leafio s<TAB>: $(words leafio s)"
    [ "$(words leafio ve)" = verify ] || fail "leafio ve<TAB>: $(words leafio ve)"
    [ "$(words leafio -)" = "-h --help -V --version" ] || fail "leafio -<TAB>: $(words leafio -)"
    [ "$(words leafio convert --spec np)" = npy ] || fail "--spec np<TAB>: $(words leafio convert --spec np)"
    [ "$(words leafio convert --spec = np)" = npy ] || fail "--spec=np<TAB>"
    names=" $(words leafio inspect --spec "") "
    case $names in *" npy "*) ;; *) fail "codec names: $names" ;; esac
    case $names in *" float16 "*) ;; *) fail "codec names: $names" ;; esac
    [ "$(words leafio pack --fo)" = --force ] || fail "pack --fo<TAB>: $(words leafio pack --fo)"
    [ "$(words leafio show --st)" = --stats ] || fail "show --st<TAB>: $(words leafio show --st)"
    [ "$(words leafio help ins)" = inspect ] || fail "help ins<TAB>"
    mkdir "$2/files"; : >"$2/files/model.eqx"
    [ "$(words leafio inspect "$2/files/mo")" = "$2/files/model.eqx" ] || fail "file names"
  ' sh "$bash_file" "$tmp"
else
  fail "bash is needed to test the bash completion"
fi

if command -v zsh >/dev/null 2>&1; then
  zsh -n "$zsh_file" || fail "zsh -n $zsh_file"
  head -1 "$zsh_file" | grep -q '^#compdef leafio$' || fail "no #compdef line"
else
  echo "test-completion: zsh not found: its file was not parsed"
fi
echo "PASS: test-completion"
