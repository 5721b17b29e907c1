"""Named corpora (``msdialog``, ``mantis``, ``solid``, ...), one file each, registered in ``SOURCES``.

A source is a class with ``description``, ``splits`` and ``load(split, labels) -> Corpus``.
"""
