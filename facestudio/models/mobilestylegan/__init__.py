"""MobileStyleGAN (FFHQ, 1024 px) read from random-face's OpenVINO IR, run natively in PyTorch."""
