"""Install each repo folder as a sub-package of the ``truancy`` namespace.

pyproject.toml cannot express "every package under connector/ becomes truancy.connector.*",
so the package list and the folder mapping are computed here from the layer folders.
"""

from setuptools import find_namespace_packages, setup

LAYERS = ("connector", "mappings", "plugins", "documents", "daemon", "sandbox")
DATA_EXTENSIONS = (
    "yaml",
    "yml",
    "toml",
    "json",
    "html",
    "js",
    "css",
    "xml",
    "ini",
    "mako",
    "csv",
    "txt",
    "j2",
    "po",
)
DATA_FILES = [f"**/*.{ext}" for ext in DATA_EXTENSIONS]

packages: list[str] = []
package_dir: dict[str, str] = {}
for layer in LAYERS:
    root = f"truancy.{layer}"
    packages.append(root)
    package_dir[root] = layer
    # Namespace discovery includes the data-only folders (policy packs, the plugin bundle) as packages,
    # so their files ship in the wheel with the package_data patterns below.
    for sub in find_namespace_packages(layer, exclude=["*__pycache__*"]):
        packages.append(f"{root}.{sub}")
        package_dir[f"{root}.{sub}"] = f"{layer}/{sub.replace('.', '/')}"

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={package: DATA_FILES for package in packages},
    include_package_data=True,
)
