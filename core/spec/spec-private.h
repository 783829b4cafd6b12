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

/* How the walker asks the rules: the codec for the leaf at `path_text`
 * (transfer none; never NULL: the default codec when no rule matches);
 * marks the matching rule used. */
typedef LfCodec *(*LfRulesSelectFunc) (LfRules *rules, const char *path_text);

struct _LfSpec {
  gatomicrefcount ref_count;
  LfSpecKind kind;
  LfCodec *codec;    /* LF_SPEC_CODEC */
  LfNode *tree;      /* LF_SPEC_TREE: containers with codec leaves */
  LfRules *rules;    /* LF_SPEC_RULES */
  LfRulesSelectFunc rules_select;
  GDestroyNotify rules_free;
};

/* A rules spec adopting `rules`; `rules_free (rules)` runs with the spec. */
LfSpec *_lf_spec_new_rules (LfRules *rules, LfRulesSelectFunc select,
                            GDestroyNotify rules_free);
