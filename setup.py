"""Packaging for ssbn-course: everything is read from settings.ini (nbdev 2 convention).
pyproject.toml (written by nbdev) declares these fields dynamic, so every one of them is given here."""
import shlex
from configparser import ConfigParser
from pathlib import Path
import setuptools

config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

requirements = shlex.split(cfg.get('requirements', ''))
dev_requirements = shlex.split(cfg.get('dev_requirements', ''))
lib_path = cfg['lib_path']
readme = Path('README.md')

setuptools.setup(
    name=cfg['repo'], version=cfg['version'], description=cfg['description'], keywords=cfg['keywords'].split(),
    long_description=readme.read_text(encoding='utf-8') if readme.exists() else cfg['description'],
    long_description_content_type='text/markdown',
    license='Apache-2.0', author=cfg['author'], author_email=cfg['author_email'],
    url=cfg['git_url'], project_urls={'Documentation': cfg['doc_host'] + cfg['doc_baseurl'], 'Source': cfg['git_url']},
    classifiers=['Programming Language :: Python :: 3', 'Intended Audience :: Education', 'Topic :: Scientific/Engineering :: Medical Science Apps.'],
    packages=setuptools.find_packages(include=[lib_path, f'{lib_path}.*']),
    include_package_data=True, install_requires=requirements, extras_require={'dev': dev_requirements},
    python_requires=f">={cfg['min_python']}", zip_safe=False,
    entry_points={'console_scripts': cfg.get('console_scripts', '').split(),
                  'nbdev': [f'{lib_path}={lib_path}._modidx:d']},
)
