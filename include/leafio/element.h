/**
 * SECTION:element
 * @title: Elements as numbers
 * @short_description: one element of any dtype, read, written and compared
 *   as a number
 *
 * The one model of numbers leafio converts with: an element is read into
 * an #LfElement, which holds every value of every dtype exactly (what
 * numpy's `x.item()` gives in Python: an int, a float or a complex), and an
 * #LfElement is written into any dtype with numpy's `astype` rules, saying
 * what was lost.  Scalar conversion (lf_scalar_convert() and the
 * lf_scalar_get_*() getters), lf_array_cast() and `leafio diff` all use it,
 * so a value converts alike wherever it is.
 *
 * bool is an unsigned integer, 0 or 1, as numpy casts it (`np.can_cast
 * (bool, uint8)`); reading treats any nonzero byte as 1.
 */
#pragma once

#if !defined(LEAFIO_INSIDE) && !defined(LEAFIO_COMPILATION)
#error "Only <leafio/leafio.h> can be included directly."
#endif

#include <leafio/types.h>
#include <leafio/dtype.h>

G_BEGIN_DECLS

/**
 * LfElementKind:
 * @LF_ELEMENT_SIGNED: a signed integer (int8 to int64), in `i`
 * @LF_ELEMENT_UNSIGNED: bool (0 or 1) or an unsigned integer (uint8 to
 *   uint64), in `u`
 * @LF_ELEMENT_FLOAT: a real float (float16, bfloat16, float32, float64),
 *   in `re`; every one of them is a double exactly
 * @LF_ELEMENT_COMPLEX: complex64 or complex128, in `re` and `im`
 *
 * Which fields of an #LfElement hold its value.
 *
 * Since: 0.2
 */
typedef enum {
  LF_ELEMENT_SIGNED,
  LF_ELEMENT_UNSIGNED,
  LF_ELEMENT_FLOAT,
  LF_ELEMENT_COMPLEX,
} LfElementKind;

/**
 * LfElement:
 * @kind: which fields hold the value
 * @i: the value of a signed integer
 * @u: the value of bool or an unsigned integer
 * @re: the value of a float, the real part of a complex
 * @im: the imaginary part of a complex
 *
 * One element of any dtype, held exactly.  The fields @kind does not name
 * are 0.  Fill one in by hand to write a value of your own.
 *
 * Since: 0.2
 */
typedef struct {
  LfElementKind kind;
  gint64 i;
  guint64 u;
  double re;
  double im;
} LfElement;

/**
 * LfElementLoss:
 * @LF_ELEMENT_EXACT: the element written equals the value (a NaN counts as
 *   equal to a NaN)
 * @LF_ELEMENT_ROUNDED: the element is near the value but not equal: a float
 *   rounded to a narrower float, an integer too wide for a float's
 *   mantissa, a fraction truncated toward zero, or a value other than 0
 *   and 1 written to bool (as 1)
 * @LF_ELEMENT_OUT_OF_RANGE: the value lies outside what the dtype holds:
 *   an integer wrapped modulo 2^bits, a float saturated to an integer's
 *   limit, NaN written to an integer (as 0), or a finite value that became
 *   an infinity
 * @LF_ELEMENT_IMAGINARY_DROPPED: a complex with a nonzero imaginary part
 *   written to a real dtype, which keeps the real part
 *
 * What lf_element_write() lost; flags that may be combined.
 *
 * Since: 0.2
 */
typedef enum {
  LF_ELEMENT_EXACT = 0,
  LF_ELEMENT_ROUNDED = 1 << 0,
  LF_ELEMENT_OUT_OF_RANGE = 1 << 1,
  LF_ELEMENT_IMAGINARY_DROPPED = 1 << 2,
} LfElementLoss;

/**
 * lf_element_read:
 * @dtype: the dtype of the element at @data
 * @data: one element, in native byte order, at any alignment
 * @element: (out caller-allocates): where to store its value
 *
 * Reads one element exactly.
 *
 * Since: 0.2
 */
LF_API void lf_element_read (LfDType dtype, gconstpointer data, LfElement *element);

/**
 * lf_element_write:
 * @element: a value
 * @dtype: the dtype to write it as
 * @data: where the element goes, in native byte order, at any alignment
 *
 * Writes @element as one element of @dtype, as numpy's `astype` does:
 * floats round half to even (a float64 straight to float16; integers to
 * float32 and bfloat16 through one rounding to float32; bfloat16 from a
 * float64 through float32, as ml_dtypes does), integers wrap modulo
 * 2^bits, floats truncate toward zero into integers and saturate at their
 * limits (NaN gives 0: numpy leaves these undefined), a complex keeps its
 * real part in a real dtype, and bool is 1 for any nonzero value (NaN
 * included).
 *
 * Returns: what was lost, %LF_ELEMENT_EXACT when nothing was
 *
 * Since: 0.2
 */
LF_API LfElementLoss lf_element_write (const LfElement *element, LfDType dtype,
                                       gpointer data);

/**
 * lf_element_to_double:
 * @element: a value
 *
 * The value as a double, for arithmetic where a rounding is fine (integers
 * past 2^53 round; lf_element_equal() and lf_element_distance() do not).
 *
 * Returns: the real part as the nearest double (`float(x.real)`)
 *
 * Since: 0.2
 */
LF_API double lf_element_to_double (const LfElement *element);

/**
 * lf_element_is_nonzero:
 * @element: a value
 *
 * What writing @element to bool gives.
 *
 * Returns: Python's `bool(x)`: %TRUE unless @element is zero (NaN is
 *   nonzero, -0.0 is zero)
 *
 * Since: 0.2
 */
LF_API gboolean lf_element_is_nonzero (const LfElement *element);

/**
 * lf_element_is_nan:
 * @element: a value
 *
 * Whether @element is not a number; integers never are.
 *
 * Returns: %TRUE when @element is a float or complex with a NaN part
 *
 * Since: 0.2
 */
LF_API gboolean lf_element_is_nan (const LfElement *element);

/**
 * lf_element_equal:
 * @a: a value
 * @b: another value
 *
 * Compares two values as numbers, exactly, whatever their kinds: int64
 * 2^53 + 1 is not float64 2^53, 0 equals -0.0, and a NaN equals nothing.
 *
 * Returns: %TRUE when @a and @b are the same number
 *
 * Since: 0.2
 */
LF_API gboolean lf_element_equal (const LfElement *a, const LfElement *b);

/**
 * lf_element_distance:
 * @a: a value
 * @b: another value
 *
 * The distance |@a - @b| as a double: exact and then rounded once for
 * integers of one sign, the complex modulus for complex values.  Equal
 * infinities are 0 apart, an infinity and anything else infinitely far.
 *
 * Returns: the distance; 0 only when lf_element_equal() holds, NaN when
 *   either is NaN
 *
 * Since: 0.2
 */
LF_API double lf_element_distance (const LfElement *a, const LfElement *b);

/**
 * lf_element_to_string:
 * @element: a value
 *
 * The value for messages: integers in full ("300"), floats with 17
 * significant digits so that they read back exactly
 * ("0.10000000000000001", "inf", "nan"), complex values as Python writes
 * them ("(2+0.5j)").
 *
 * Returns: (transfer full): a new string; free with g_free()
 *
 * Since: 0.2
 */
LF_API char *lf_element_to_string (const LfElement *element);

G_END_DECLS
