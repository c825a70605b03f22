"""The shared parameter text of the strategies that select on a representation.

TypiClust and ProbCover (Hacohen, Yehuda, Dekel and Weinshall, 2022) look at
the pool *and* the labeled set in one space: the classifier's penultimate
embedding, the raw features, or a fixed representation the user brings (the
papers use a self-supervised one). They need no labels: with none, they
choose a first labeled set, as :class:`~skal.ActiveLearner`'s
``initial_strategy``. Their base, :class:`~skal.base.BaseRepresentationStrategy`,
is in :mod:`skal.base`.
"""


__all__ = []

_REPRESENTATION_PARAMS_DOC = """estimator : estimator object, default=None
        The classifier whose penultimate embedding is the representation when
        ``embedding="estimator"``, or ``"auto"`` and an estimator is given
        (a skorch ``NeuralNetClassifier``, an ``MLPClassifier``, a linear
        model, or a ``Pipeline`` ending in one). Inside
        :class:`~skal.ActiveLearner` it is the round's fitted classifier.
        Not used with another ``embedding``.

    prefit : bool, default=False
        Whether ``estimator`` is already fitted (as for every strategy). When
        no estimator is used, ``prefit=True`` lets ``query``, ``rank`` and
        ``transform`` run without ``fit``, with no labeled set.

    embedding : "auto", "estimator", None or object, default="auto"
        The representation in which samples are compared. ``"estimator"``:
        the penultimate embedding of ``estimator``
        (:func:`skal.embeddings.penultimate_embedding`), recomputed at each
        query, so it follows the classifier from round to round. ``None``:
        the raw features, flattened (an image of shape ``(1, 28, 28)``
        becomes 784 features). A *fitted* transformer (anything with
        ``transform``, e.g. a ``PCA`` fitted on unlabeled data, or an encoder
        trained without labels wrapped as one, as in the paper): its output.
        A *fitted* classifier, e.g. a pre-trained skorch net: its
        penultimate embedding. Such an object is never fitted nor modified by
        the strategy, so the representation stays the same from round to
        round. ``"auto"``: ``"estimator"`` when the strategy has an
        estimator, else ``None``: left at its default, the strategy chooses a
        first labeled set on the raw features as ``ActiveLearner``'s
        ``initial_strategy``, and follows the classifier's embedding as its
        ``strategy``."""

_LABELED_SET_DOC = """``fit(X, y)`` records ``X`` as the labeled set (``X_labeled_``): it is
    represented like the pool at each query, with the same representation.
    ``fit(X)`` without labels records no labeled set: that is how
    :class:`~skal.ActiveLearner` fits its ``initial_strategy`` (on the
    whole pool, before any label exists)."""
