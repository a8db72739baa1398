"""Native StyleGAN2(-ADA) / StyleGAN3 networks, their safe pickle reader and FaceStudio file format."""
