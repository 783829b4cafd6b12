#!/bin/sh
# Fails unless every public symbol has a complete gtk-doc block.  Run in
# docs/reference after gtkdoc-mkdb, which writes what this reads:
#   MODULE-undocumented.txt  symbols without a block or a description, and
#                            incomplete ones (a parameter, field or value
#                            without its line), after a 4-line summary;
#   MODULE-unused.txt        blocks naming nothing a header declares;
#   xml/*.xml                one refsect2 a symbol, with condition="since:X"
#                            when its block has a Since: line.
set -eu
module=${1:-leafio}
status=0

summary=$(sed -n '1,4p' "$module-undocumented.txt" | tr '\n' ' ')
missing=$(sed '1,4d' "$module-undocumented.txt" | grep . || true)
if [ -n "$missing" ]; then
  echo "check-docs: public symbols without a complete gtk-doc block (description," >&2
  echo "every parameter, field or value, and Returns:):" >&2
  echo "$missing" | sed 's/^/  /' >&2
  status=1
fi

stale=$(grep . "$module-unused.txt" 2>/dev/null || true)
if [ -n "$stale" ]; then
  echo "check-docs: gtk-doc blocks for names no header declares:" >&2
  echo "$stale" | sed 's/^/  /' >&2
  status=1
fi

nosince=$(grep -h '<refsect2 id="[^"]*" role="[^"]*"' xml/*.xml | grep -v 'condition="since:' \
          | sed 's/.*<refsect2 id="\([^"]*\)".*/\1/' || true)
if [ -n "$nosince" ]; then
  echo "check-docs: symbols whose block has no 'Since:' line (gtk-doc ids):" >&2
  echo "$nosince" | sed 's/^/  /' >&2
  status=1
fi

if [ $status -eq 0 ]; then
  echo "check-docs: every public symbol is documented: $summary"
fi
exit $status
