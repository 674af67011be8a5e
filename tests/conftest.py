"Shared fixtures: tiny datasets in each real dataset's exact layout, written by the course's own writers or by hand."
import pytest
from ssbn_course.phantoms import write_phantom_dataset


@pytest.fixture(scope='session')
def nih_dir(tmp_path_factory):
    return write_phantom_dataset(tmp_path_factory.mktemp('nih'), 'nih', n_patients=12, image_size=64, workers=1)


@pytest.fixture(scope='session')
def chexpert_dir(tmp_path_factory):
    return write_phantom_dataset(tmp_path_factory.mktemp('chexpert'), 'chexpert', n_patients=20, image_size=64, workers=1)


@pytest.fixture(scope='session')
def vindr_dir(tmp_path_factory):
    return write_phantom_dataset(tmp_path_factory.mktemp('vindr'), 'vindr', n_patients=12, image_size=64, workers=1)
