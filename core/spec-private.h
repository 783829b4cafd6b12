/* Internals of LfSpec shared by spec.c, the rules and JSON parsers and the walker. */
#pragma once

#include <leafio/leafio.h>

typedef enum {
  LF_SPEC_CODEC,  /* one codec for every leaf */
  LF_SPEC_TREE,   /* a spec tree matched as a prefix of the data */
  LF_SPEC_RULES,  /* ordered glob rules over keystr paths */
} LfSpecKind;

/* Compiled path rules; defined in rules.c. */
typedef struct _LfRules LfRules;

struct _LfSpec {
  gatomicrefcount ref_count;
  LfSpecKind kind;
  LfCodec *codec;    /* LF_SPEC_CODEC */
  LfNode *tree;      /* LF_SPEC_TREE: containers with codec leaves */
  LfRules *rules;    /* LF_SPEC_RULES */
};

/* A rules spec adopting `rules`. */
LfSpec *_lf_spec_new_rules (LfRules *rules);

/* rules.c: the codec for the leaf at `path_text` (transfer none; never NULL:
 * the default codec when no rule matches).  Marks the matching rule used. */
LfCodec *_lf_rules_select (LfRules *rules, const char *path_text);
void _lf_rules_free (LfRules *rules);
