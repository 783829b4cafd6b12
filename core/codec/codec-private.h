/* Internals of codec instances and their options, shared by codec.c,
 * codec-ref.c and resolve.c (registry-private.h says which file depends
 * on which). */
#pragma once

#include <leafio/leafio.h>

/* A parsed codec reference: `name` or `name(key=value, ...)`.  A value is
 * itself a reference; plain values ("19", "error") are references without
 * options, read as text by the option getters. */
typedef struct _LfRefAst LfRefAst;
struct _LfRefAst {
  char *name;
  gboolean quoted;       /* the name was a quoted string: never a codec */
  gboolean has_options;  /* written with parentheses */
  GPtrArray *keys;       /* char * */
  GPtrArray *values;     /* LfRefAst * */
};

/* Parses `text`; LF_ERROR_PARSE with the position on failure. */
LfRefAst *_lf_ref_parse (const char *text, GError **error);
void _lf_ref_free (LfRefAst *ast);
/* Canonical text: name(key=value, ...), quoting values that need it. */
void _lf_ref_append (const LfRefAst *ast, GString *out);

struct _LfCodecOptions {
  LfRegistry *registry;  /* borrowed */
  const LfRefAst *ast;   /* borrowed */
  gboolean *used;        /* one flag per option */
};

struct _LfCodec {
  gatomicrefcount ref_count;
  const LfCodecClass *klass;
  gpointer data;         /* from parse_options */
  LfRegistry *registry;  /* owned reference */
  char *text;            /* canonical reference */
};

/* A codec of `klass` adopting `data` (from parse_options) and `text` (its
 * canonical reference), holding a reference to `registry`. */
LfCodec *_lf_codec_new (const LfCodecClass *klass, gpointer data, LfRegistry *registry,
                        char *text);
/* Builds a codec from a parsed reference, resolving names in `registry`. */
LfCodec *_lf_codec_new_from_ast (LfRegistry *registry, const LfRefAst *ast,
                                 GError **error);
