"""The exception every failure of this package raises."""

__all__ = ["LeafioError"]


class LeafioError(Exception):
    """A file, tree, spec or codec problem; the message names the file, the
    leaf path and the record where there is one."""
