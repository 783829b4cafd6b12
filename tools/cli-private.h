/* Internals shared by the files of the `leafio` command-line tool. */
#pragma once

#include <json-glib/json-glib.h>
#include <leafio/leafio.h>

/* Exit statuses, as diff(1) uses them. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_DIFFERENT = 1,
  CLI_EXIT_ERROR = 2,
};

/* ---- subcommands (one file a group) --------------------------------------- */

/* Each takes its own argv: argv[0] is the subcommand's name. */
int cli_cmd_codecs (int argc, char **argv);
int cli_cmd_inspect (int argc, char **argv);
int cli_cmd_skeleton (int argc, char **argv);
int cli_cmd_unpack (int argc, char **argv);
int cli_cmd_pack (int argc, char **argv);
int cli_cmd_convert (int argc, char **argv);
int cli_cmd_diff (int argc, char **argv);
int cli_cmd_show (int argc, char **argv);
int cli_cmd_verify (int argc, char **argv);
int cli_cmd_ls (int argc, char **argv);

/* ---- value-format.c ----------------------------------------------------------- */

/* The `n` = prod(shape) values at `data` as numpy's array2string prints
 * them with its default options (ndim 0: the one value).  Transfer full. */
char *cli_format_values (LfDType dtype, guint ndim, const gsize *shape, gconstpointer data);
/* The shortest text that reads back as `x` ("0.1", "1e-07", "nan").  Transfer full. */
char *cli_format_double (double x);
/* One element of `dtype` as Python's repr writes a number of that type:
 * the shortest digits that read back in `dtype` ("0.71428573" for a
 * float32).  Transfer full. */
char *cli_format_element (LfDType dtype, const LfElement *element);

typedef struct _CliReader CliReader;

/* ---- file-open.c: random access ----------------------------------------------- */

/* lf_file_open() with the skeleton in `like_file` and the spec `spec_text`
 * (cli_spec_load; NULL: none), errors prefixed with the option.  With
 * `damage` (nullable) a damaged file opens as far as its records can be
 * read (LF_FILE_PARTIAL), and `*damage` is set to the error of the first
 * record that cannot, if any. */
LfFile *cli_file_open (const char *filename, const char *like_file, const char *spec_text,
                       GError **damage, GError **error);
/* cli_file_open() over the bytes `reader` holds (a file read from stdin),
 * called "stdin" in messages; `destroy` (NULL: none) frees `reader` when
 * the file is done with it.  The reader is rewound afterwards.  With
 * `damage` and without `like_file`, the index ends at the first record
 * that cannot be described, whose error goes to `*damage`. */
LfFile *cli_file_open_reader (CliReader *reader, GDestroyNotify destroy,
                              const char *like_file, const char *spec_text,
                              GError **damage, GError **error);
/* Up to 8 of the file's leaf paths close to `path`, one a line indented by
 * two spaces, or NULL when none is close.  Transfer full. */
char *cli_file_suggest_paths (LfFile *file, const char *path);

/* ---- cli-util.c ------------------------------------------------------------ */

/* Set by --quiet: no progress bar, no result line. */
extern gboolean cli_quiet;
/* Set by --force: outputs that exist are replaced. */
extern gboolean cli_force;
/* Set by --human: sizes in KiB, MiB, GiB instead of exact bytes. */
extern gboolean cli_human;

/* The options every command that writes or measures spells the same way;
 * list them in a command's GOptionEntry table. */
#define CLI_OPTION_QUIET \
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &cli_quiet, "No progress bar and no result line", NULL }
#define CLI_OPTION_FORCE \
  { "force", 'f', 0, G_OPTION_ARG_NONE, &cli_force, "Replace outputs that already exist", NULL }
#define CLI_OPTION_HUMAN \
  { "human", 'H', 0, G_OPTION_ARG_NONE, &cli_human, \
    "Sizes in KiB, MiB, GiB (default: exact bytes)", NULL }

/* Parses a subcommand's options; on failure prints the error and a hint
 * and returns FALSE.  `n_args` is the number of positional arguments
 * wanted (after option parsing), -N for "at least N". */
gboolean cli_parse_options (GOptionContext *context, int *argc, char ***argv,
                            int n_args);
/* Prints "leafio: MESSAGE" to stderr, frees the error and returns
 * CLI_EXIT_ERROR. */
int cli_fail (GError *error);
/* Reports the default registry's plugin load errors on stderr: a codec
 * name two plugins claim is an error (returns CLI_EXIT_ERROR, and the
 * command must not run: it could silently use either), anything else a
 * warning (CLI_EXIT_OK). */
int cli_check_plugins (void);
/* A spec from --spec text and/or a --rules file: JSON when the text starts
 * with '{' or '[', "@FILE" reads the text from FILE, otherwise a codec
 * reference; with `rules_file` the text (or LF_CODEC_DEFAULT) is the
 * rules' default.  NULL text and file: the default codec.  Transfer full. */
LfSpec *cli_spec_load (const char *text, const char *rules_file, GError **error);
/* "float32", "(2, 3)"-style text of an array leaf: "float32 (2, 3)".
 * Scalars print as their dtype with shape (). */
char *cli_leaf_describe (LfNode *leaf);
/* Prints `root` as indented JSON and a newline to stdout. */
void cli_print_json (JsonNode *root);
/* dtype and shape of an array or scalar leaf (shape NULL for scalars). */
void cli_leaf_get_type (LfNode *leaf, LfDType *dtype, guint *ndim, const gsize **shape);

/* ---- files named on the command line (cli-util.c) ---------------------------- */

/* "-" as a file name: stdin for an input, stdout for an output. */
#define CLI_STDIO "-"
#define CLI_STDIN_NAME "stdin"
#define CLI_STDOUT_NAME "stdout"
gboolean cli_is_stdio (const char *name);
/* Takes stdin for an input named "-": only one input of a command can be
 * stdin.  LF_ERROR_FAILED when an earlier one already took it. */
gboolean cli_claim_stdin (GError **error);
/* Reads what is left of stdin to its end (a pipe, a FIFO, a terminal):
 * LF_ERROR_IO on a read error, LF_ERROR_TOO_LARGE when it does not fit in
 * memory.  Transfer full. */
GBytes *cli_read_stdin (GError **error);
/* Refuses an output `path` that exists unless --force was given: exit
 * before anything is read or written.  stdout always passes. */
gboolean cli_check_overwrite (const char *path, GError **error);
/* Loads the skeleton JSON named by `option` ("--like"), its errors naming
 * the option and what the file should hold.  Transfer full. */
LfNode *cli_load_skeleton_file (const char *option, const char *path, GError **error);

/* ---- sizes and results (cli-util.c) ------------------------------------------- */

/* `bytes` as text: exact ("1048576") by default, "1.0 MiB" with --human. */
char *cli_format_size (guint64 bytes);
/* A size or rate that is for people only (progress bars, rates): always
 * in units, "1.0 MiB". */
char *cli_format_size_units (guint64 bytes);
/* Prints the result line of a command that read `in_bytes` from `in_name`
 * and wrote `out_bytes` to `out_name` since `start_us`
 * (g_get_monotonic_time()), as zstd does, on stderr unless --quiet:
 *   IN -> OUT: 1048576 -> 524416 bytes (50.01%), 0.02 s, 49.8 MiB/s */
void cli_print_result (const char *in_name, guint64 in_bytes, const char *out_name,
                       guint64 out_bytes, gint64 start_us);
/* Routes GLib warnings (from the library: a stale manifest, say) to
 * stderr as "leafio: warning: MESSAGE". */
void cli_log_init (void);
/* Makes the exit status 2, with a message, when what was printed to
 * stdout could not be written. */
void cli_check_stdout_at_exit (void);
/* How many warnings cli_log_init()'s handler has printed. */
extern guint cli_n_warnings;

/* ---- limits (cli-util.c) ------------------------------------------------------ */

/* The most one record may decode to when it is read without a skeleton
 * (`like`), where nothing else bounds it: 4 GiB unless LEAFIO_MAX_RECORD_SIZE
 * or --max-record-size says otherwise; 0 means no limit. */
#define CLI_DEFAULT_MAX_RECORD_SIZE ((guint64) 4 << 30)
#define CLI_MAX_RECORD_SIZE_ENV "LEAFIO_MAX_RECORD_SIZE"
extern guint64 cli_max_record_size;

/* "4096", "512K", "4G", "4GiB", "1TB": bytes, with binary units (K is
 * 1024).  LF_ERROR_PARSE naming `what` when `text` is not one. */
gboolean cli_parse_size (const char *what, const char *text, guint64 *value, GError **error);
/* The most '-' (stdin) may hold, since it is read into memory whole: half
 * the machine's memory unless LEAFIO_MAX_STDIN says otherwise (0: only
 * memory itself). */
#define CLI_MAX_STDIN_ENV "LEAFIO_MAX_STDIN"
extern guint64 cli_max_stdin;
/* Reads LEAFIO_MAX_RECORD_SIZE and LEAFIO_MAX_STDIN when they are set. */
gboolean cli_limits_init (GError **error);
/* Adds --max-record-size to `context`'s main group. */
void cli_limits_add_options (GOptionContext *context);

/* ---- reader.c: reading a file record by record -------------------------------- */

/* One record as its codec describes it (lf_codec_describe). */
typedef struct {
  guint index;
  guint64 offset;              /* of the record's first byte in the file */
  guint64 size;                /* bytes of the whole record */
  const LfCodec *codec;        /* the codec that described it; NULL: no codec knows it */
  const LfRecordInfo *record;  /* its description, NULL with `codec`; both valid until
                                * the reader moves to the next record */
} CliRecordInfo;

/* A file mapped in memory, read one record after another.  Each record is
 * described by its codec from its first bytes: the reader's codec when one
 * is set, otherwise the first registered codec that recognises it (the
 * default codec first, then the others by name).  A record read for a
 * skeleton leaf must fit it; one read without is checked against
 * cli_max_record_size before it is decoded (listing it needs no limit).
 * Every error is prefixed "FILE: record N (offset X): ". */

/* "-" reads stdin (named "stdin" in messages), once. */
CliReader *cli_reader_open (const char *filename, GError **error);
void cli_reader_free (CliReader *reader);
/* Reads every record with `codec` (a reference is added; NULL: each
 * record with the codec that recognises it). */
void cli_reader_set_codec (CliReader *reader, LfCodec *codec);
const char *cli_reader_get_filename (CliReader *reader);
guint64 cli_reader_get_size (CliReader *reader);
/* Offset of the next record (== size at the end). */
guint64 cli_reader_get_offset (CliReader *reader);
/* Index of the next record. */
guint cli_reader_get_index (CliReader *reader);
gboolean cli_reader_at_end (CliReader *reader);
/* Goes back to the first record (for a second pass over the file). */
void cli_reader_rewind (CliReader *reader);
/* Copies up to `count` bytes of the file from `offset` (an
 * LfFileReadFunc: random access to a file read from stdin). */
gssize cli_reader_read_at (gpointer reader, void *buffer, gsize count, guint64 offset,
                           GError **error);
/* Describes the next record as it describes itself and moves past it.  A
 * record no codec recognises fills `info` (codec NULL, size: the rest of
 * the file) and fails with LF_ERROR_CORRUPT giving each codec's reason. */
gboolean cli_reader_next_info (CliReader *reader, CliRecordInfo *info, GError **error);
/* The same for the record of the skeleton leaf `like` at `path`, written
 * with `codec` (NULL: the reader's choice).  A codec that cannot describe
 * its records has the record decoded for `like`, as loads do. */
gboolean cli_reader_next_info_for_leaf (CliReader *reader, LfCodec *codec, LfNode *like,
                                        const LfPath *path, CliRecordInfo *info,
                                        GError **error);
/* The value of the record `info` describes (just returned by a next_info
 * call), decoded by its codec (transfer full). */
LfNode *cli_reader_decode (CliReader *reader, const CliRecordInfo *info, GError **error);
/* next_info then decode. */
LfNode *cli_reader_next_leaf (CliReader *reader, CliRecordInfo *info, GError **error);
/* The raw bytes of the record `info` describes (transfer full). */
GBytes *cli_reader_get_record_bytes (CliReader *reader, const CliRecordInfo *info);
/* Whether the record's bytes are a .npy file of its leaf: its codec stores
 * an array as an npy header and the array's own bytes (LF_CODEC_ROW_RANGES
 * and LF_CODEC_RAW_DATA) and the stored dtype is the leaf's. */
gboolean cli_record_is_npy_file (const CliRecordInfo *info);
/* Names the skeleton leaf `path` (keystr text; NULL: none) in the errors
 * of the next records. */
void cli_reader_set_leaf_path (CliReader *reader, const char *path);
/* Prefixes `error` with the reader's file, `index` and `offset`. */
void cli_reader_prefix_error (CliReader *reader, guint index, guint64 offset,
                              GError **error);

/* ---- record-walk.c: a file's records, alone or paired with a skeleton ------ */

/* --like SKELETON.json and --spec SPEC, as inspect and unpack take them,
 * and what they name once loaded.  Zero-initialise; cli_skeleton_clear()
 * frees. */
typedef struct {
  char *like_file;
  char *spec_text;
  LfNode *like;   /* NULL without --like */
  LfSpec *spec;   /* with --like: the spec (default: the default codec) */
} CliSkeleton;

/* Adds --like (described by `like_help`, a string that outlives `context`)
 * and --spec to `context`'s main group; parsing fills `skeleton`. */
void cli_skeleton_add_options (CliSkeleton *skeleton, GOptionContext *context,
                               const char *like_help);
/* Reads the skeleton and the spec.  Without --like, --spec must name one
 * codec, which `reader` then reads every record with. */
gboolean cli_skeleton_load (CliSkeleton *skeleton, CliReader *reader, GError **error);
void cli_skeleton_clear (CliSkeleton *skeleton);
/* The codec a --spec or --input-spec reference names, for reading records
 * without a skeleton (a spec tree or rules need one): LF_ERROR_SPEC
 * naming `option` otherwise.  Transfer full. */
LfCodec *cli_codec_for_reading (const char *option, const char *text, GError **error);

/* Called by cli_reader_walk() for each record, or each leaf of a skeleton
 * with the record matched to it.  Without a skeleton `path`, `path_text`
 * and `leaf` are NULL; with one, `info` is NULL for a leaf its codec
 * writes no record for. */
typedef gboolean (*CliMatchFunc) (const LfPath *path, const char *path_text, LfNode *leaf,
                                  const CliRecordInfo *info, gpointer user_data,
                                  GError **error);
/* Sees a record no codec recognises (codec NULL, size: the rest of the
 * file) just before the walk fails with its error. */
typedef void (*CliUnknownFunc) (const CliRecordInfo *info, gpointer user_data);

/* Calls `func` for each record from the reader's position to the end or,
 * when `skeleton` (may be NULL) holds a loaded one, for each of its leaves
 * as a load with its spec pairs them with records (lf_spec_foreach_leaf):
 * a record that does not fit its leaf, a file that ends early or has bytes
 * left are errors naming the record and the path.  Stops at the first
 * error, from the file or from `func`.  Without a skeleton, `unknown_func`
 * (may be NULL) is told of an unknown record first.  Shows a progress bar
 * labelled `label` while it runs. */
gboolean cli_reader_walk (CliReader *reader, const CliSkeleton *skeleton, const char *label,
                          CliMatchFunc func, CliUnknownFunc unknown_func, gpointer user_data,
                          GError **error);

/* The skeleton of a file read without one: a list with one abstract array
 * a record, of the dtype and shape its codec describes (what `leafio
 * skeleton` prints).  Transfer full. */
LfNode *cli_records_skeleton (CliReader *reader, const char *label, GError **error);
/* The same for the records up to the first that cannot be described,
 * whose error goes to `*broken` (NULL when every record was read).  Never
 * NULL: an empty list when the first record is broken. */
LfNode *cli_records_skeleton_prefix (CliReader *reader, const char *label, GError **broken);

/* ---- output.c: atomic output files ---------------------------------------- */

/* Writes to a temporary file next to `path` (an LfAtomicFile); only
 * cli_output_commit() puts it in place (rename), so `path` is never
 * half-written.  Freeing an uncommitted output, or a signal that ends the
 * tool (SIGINT, SIGTERM, SIGHUP, SIGPIPE), removes the temporary file.
 * `path` "-" writes to stdout as the bytes come, which is not atomic.  An
 * existing `path` is refused without --force (cli_check_overwrite). */
typedef struct _CliOutput CliOutput;

CliOutput *cli_output_new (const char *path, GError **error);
/* The stream to write to (transfer none); its name is `path`. */
LfStream *cli_output_get_stream (CliOutput *output);
/* Shows progress of the bytes written as `label` against `total` (0: unknown). */
void cli_output_set_progress (CliOutput *output, const char *label, guint64 total);
gboolean cli_output_commit (CliOutput *output, GError **error);
/* Bytes written so far. */
guint64 cli_output_get_written (CliOutput *output);
/* The file cli_save_tree() writes for `path`: ".eqx" added when it has no
 * suffix; "-" stays stdout (transfer full).  NULL with an error for a path
 * that names a directory ("", ".", "/"), as Equinox refuses it. */
char *cli_output_target (const char *path, GError **error);
/* cli_save_tree() that also gives the bytes written (`written` may be NULL). */
gboolean cli_save_tree_full (const char *path, LfNode *tree, LfSpec *spec, guint64 *written,
                             GError **error);
void cli_output_free (CliOutput *output);
/* Saves the leaves of `tree` with `spec` to `path` (".eqx" added when it
 * has no suffix, as the library does) atomically, with a progress bar. */
gboolean cli_save_tree (const char *path, LfNode *tree, LfSpec *spec, GError **error);
/* Writes `bytes` to `path` atomically. */
gboolean cli_write_file_atomic (const char *path, GBytes *bytes, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliReader, cli_reader_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliSkeleton, cli_skeleton_clear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliOutput, cli_output_free)

/* From a signal handler: removes the temporary file of the output being
 * written, if any (async-signal-safe). */
void cli_output_remove_pending (void);

/* ---- mapped-input.c: inputs read through a memory map ---------------------- */

/* The bytes of `mapped`, the map of the file `filename`, for as long as
 * they (or slices of them: leaves decoded without a copy) live.  If
 * another program truncates the file meanwhile, an access past the new end
 * raises SIGBUS; the tool then prints "leafio: FILE: the file was truncated
 * while it was being read", removes the output it was writing and exits
 * with status 2, instead of dying of the signal.  Transfer full. */
GBytes *cli_mapped_input_get_bytes (const char *filename, GMappedFile *mapped);
/* Reads a byte of every page of `bytes` (a slice of a mapped input), so a
 * file cut short before the slice is handed to write(2) raises SIGBUS here,
 * which names the input, rather than failing the write with EFAULT, which
 * would name the output. */
void cli_mapped_input_touch (GBytes *bytes);

/* ---- progress.c ------------------------------------------------------------ */

/* A progress bar on stderr, shown only when stderr is a terminal, --quiet
 * is off and the work has lasted over a second (LEAFIO_PROGRESS_DELAY_MS
 * overrides the delay).  Shows bytes done, rate and, when `total` is known,
 * percent and time left. */
typedef struct _CliProgress CliProgress;

CliProgress *cli_progress_new (const char *label, guint64 total);
void cli_progress_update (CliProgress *progress, guint64 done);
/* Erases the bar and frees.  NULL is allowed. */
void cli_progress_free (CliProgress *progress);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliProgress, cli_progress_free)
