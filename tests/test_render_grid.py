"""uint8 conversion, grids and upscaling."""

import numpy as np
import pytest
import torch

from facestudio.render.grid import check_images, image_grid, resize, resize_all, tensor_to_uint8, uint8_to_tensor, upscale


def test_tensor_to_uint8_maps_the_range_and_layout():
    x = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0, 3.0, -7.0]).view(1, 1, 1, 7).expand(2, 3, 1, 7).clone()
    x[1] = -x[1]
    out = tensor_to_uint8(x)
    assert out.shape == (2, 1, 7, 3) and out.dtype == np.uint8
    assert out[0, 0, :, 0].tolist() == [0, 64, 128, 191, 255, 255, 0]
    assert out[1, 0, :, 1].tolist() == [255, 191, 128, 64, 0, 0, 255]
    single = tensor_to_uint8(x[0])
    assert single.shape == (1, 7, 3)


def test_tensor_to_uint8_channel_counts():
    grey = torch.linspace(-1, 1, 4).view(1, 1, 2, 2)
    rgb = tensor_to_uint8(grey)
    assert rgb.shape == (1, 2, 2, 3) and np.all(rgb[..., 0] == rgb[..., 2])
    rgba = torch.rand(1, 4, 2, 2) * 2 - 1
    np.testing.assert_array_equal(tensor_to_uint8(rgba), tensor_to_uint8(rgba[:, :3]))
    with pytest.raises(ValueError):
        tensor_to_uint8(torch.zeros(1, 5, 2, 2))


def test_uint8_round_trip():
    images = np.random.default_rng(0).integers(0, 256, (3, 5, 4, 3), dtype=np.uint8)
    np.testing.assert_array_equal(tensor_to_uint8(uint8_to_tensor(images)), images)


def test_grid_layout_and_padding():
    images = np.stack([np.full((4, 6, 3), 10 * (i + 1), np.uint8) for i in range(5)])
    grid = image_grid(images, cols=3, pad=2, pad_value=255)
    assert grid.shape == (2 * (4 + 2) + 2, 3 * (6 + 2) + 2, 3)
    assert np.all(grid[2:6, 2:8] == 10) and np.all(grid[2:6, 10:16] == 20)
    assert np.all(grid[8:12, 2:8] == 40) and np.all(grid[8:12, 10:16] == 50)
    assert np.all(grid[8:12, 18:24] == 255)  # the empty cell
    assert np.all(grid[0:2] == 255) and np.all(grid[:, 0:2] == 255)
    assert image_grid(images).shape == (2 * 6 + 2, 3 * 8 + 2, 3)  # near-square default
    assert image_grid(images, cols=50, pad=0).shape == (4, 30, 3)


@pytest.mark.parametrize("kwargs", [{"cols": 0}, {"pad": -1}, {"pad_value": 300}])
def test_grid_refuses_bad_settings(kwargs):
    with pytest.raises(ValueError):
        image_grid(np.zeros((2, 4, 4, 3), np.uint8), **kwargs)


def test_check_images_refuses_wrong_kinds():
    with pytest.raises(ValueError):
        check_images(np.zeros((2, 4, 4, 3), np.float32))
    with pytest.raises(ValueError):
        check_images(np.zeros((2, 4, 4), np.uint8)[..., None])
    with pytest.raises(ValueError):
        check_images([np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)])
    with pytest.raises(ValueError):
        check_images([])
    assert check_images([np.zeros((4, 4, 3), np.uint8)] * 2).shape == (2, 4, 4, 3)


def test_crisp_upscaling_repeats_pixels_exactly():
    image = np.random.default_rng(1).integers(0, 256, (3, 4, 3), dtype=np.uint8)
    big = upscale(image, 3, smooth=False)
    assert big.shape == (9, 12, 3)
    np.testing.assert_array_equal(big[::3, ::3], image)
    np.testing.assert_array_equal(big[2::3, 2::3], image)


def test_smooth_upscaling_and_resizing():
    image = np.random.default_rng(2).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    smooth = upscale(image, 2, smooth=True)
    assert smooth.shape == (16, 16, 3) and smooth.dtype == np.uint8
    assert not np.array_equal(smooth, upscale(image, 2, smooth=False))
    assert resize(image, 20, smooth=False).shape == (20, 20, 3)
    assert resize(image, (12, 10)).shape == (10, 12, 3)
    np.testing.assert_array_equal(resize(image, 8), image)
    assert resize_all(np.stack([image, image]), 16).shape == (2, 16, 16, 3)
    assert resize_all(np.stack([image]), None).shape == (1, 8, 8, 3)
    with pytest.raises(ValueError):
        upscale(image, 0)
    with pytest.raises(ValueError):
        resize(image, 0)
