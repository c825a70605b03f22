"""Packaging for skal."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "skal" / "__init__.py").read_text(), re.M
).group(1)

setup(
    name="skal",
    version=VERSION,
    description="Deep active learning for scikit-learn and skorch",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    packages=find_packages(include=["skal", "skal.*"]),
    python_requires=">=3.10",
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.10",
        "scikit-learn>=1.6",
        "joblib>=1.4",
        "torch>=2.7",
        "numba>=0.59",
        "torchvision>=0.22",
        "skorch>=1.3.1",
        "matplotlib>=3.7",
        "tqdm>=4.60",
        "threadpoolctl>=3.1",
    ],
    extras_require={
        "test": [
            "pytest>=7",
            "pandas>=1.5",
            "dask[distributed]>=2023.1",
            "hypothesis>=6",
            "numpydoc>=1.9",
            "nbclient>=0.7",
            "nbformat>=5.7",
            "ipykernel>=6.17",
        ],
        "docs": [
            "sphinx>=7",
            "numpydoc>=1.6",
            "pydata-sphinx-theme>=0.15",
            "sphinx-gallery>=0.16",
            "myst-parser>=2",
            "pandas>=1.5",
        ],
    },
    entry_points={"console_scripts": ["skal=skal.__main__:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
