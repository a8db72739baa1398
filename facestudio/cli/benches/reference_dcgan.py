"""The PyTorch DCGAN tutorial's training loop, as the yardstick for FaceStudio's trainer.

    python facestudio/cli/benches/reference_dcgan.py FOLDER [--steps 40] [--workers 2]

This is https://pytorch.org/tutorials/beginner/dcgan_faces_tutorial.html as written:
64x64 images, nz=100, ngf=ndf=64, batch 64, Adam(2e-4, betas 0.5/0.999), a discriminator
ending in Sigmoid with BCELoss, an image folder decoded with Pillow on every epoch through
a DataLoader with 2 workers, and the same step (D on real, D on detached fake, G through
D). The one change: torchvision's ImageFolder/Resize/CenterCrop/ToTensor/Normalize are
re-written with Pillow and numpy (FaceStudio does not depend on torchvision); they do
the same work per image: open, decode, resize the short side, centre-crop, scale to [-1, 1].
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from PIL import Image
from torch.utils.data import DataLoader, Dataset

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


class ImageFolderDataset(Dataset):
    """torchvision's ImageFolder + Compose([Resize, CenterCrop, ToTensor, Normalize]) in Pillow/numpy."""

    def __init__(self, root: str | Path, image_size: int) -> None:
        self.paths = sorted(p for p in Path(root).rglob("*") if p.suffix.lower() in IMG_EXTENSIONS)
        self.image_size = image_size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int):
        with open(self.paths[index], "rb") as f:
            img = Image.open(f).convert("RGB")  # torchvision's pil_loader
        w, h = img.size  # Resize(image_size): the short side becomes image_size, bilinear
        s = self.image_size
        size = (s, int(s * h / w)) if w <= h else (int(s * w / h), s)
        img = img.resize(size, Image.BILINEAR)
        left, top = int(round((img.width - s) / 2.0)), int(round((img.height - s) / 2.0))  # CenterCrop
        img = img.crop((left, top, left + s, top + s))
        x = torch.from_numpy(np.asarray(img, dtype=np.uint8).copy()).permute(2, 0, 1).float().div(255)  # ToTensor
        return (x - 0.5) / 0.5, 0  # Normalize((0.5,)*3, (0.5,)*3); ImageFolder's class label


def weights_init(m: nn.Module) -> None:
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class Generator(nn.Module):
    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self, ndf: int = 64, nc: int = 3) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid(),
        )

    def forward(self, input):
        return self.main(input)


def train_reference(folder: str | Path, steps: int, warmup: int = 3, workers: int = 2, batch_size: int = 64,
                    image_size: int = 64, nz: int = 100, seed: int = 999) -> dict:
    """Run the tutorial loop for `warmup + steps` iterations; images/s over the last `steps`."""
    torch.manual_seed(seed)
    device = torch.device("cpu")
    dataset = ImageFolderDataset(folder, image_size)
    dataloader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers)
    netG = Generator(nz).to(device)
    netG.apply(weights_init)
    netD = Discriminator().to(device)
    netD.apply(weights_init)
    criterion = nn.BCELoss()
    real_label, fake_label = 1.0, 0.0
    optimizerD = optim.Adam(netD.parameters(), lr=0.0002, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=0.0002, betas=(0.5, 0.999))
    iters, t0, cpu0, images = 0, None, None, 0
    while iters < warmup + steps:
        for i, data in enumerate(dataloader, 0):
            # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
            netD.zero_grad()
            real_cpu = data[0].to(device)
            b_size = real_cpu.size(0)
            label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
            output = netD(real_cpu).view(-1)
            errD_real = criterion(output, label)
            errD_real.backward()
            D_x = output.mean().item()  # noqa: F841 (the tutorial logs these)
            noise = torch.randn(b_size, nz, 1, 1, device=device)
            fake = netG(noise)
            label.fill_(fake_label)
            output = netD(fake.detach()).view(-1)
            errD_fake = criterion(output, label)
            errD_fake.backward()
            D_G_z1 = output.mean().item()  # noqa: F841
            errD = errD_real + errD_fake  # noqa: F841
            optimizerD.step()
            # (2) Update G network: maximize log(D(G(z)))
            netG.zero_grad()
            label.fill_(real_label)
            output = netD(fake).view(-1)
            errG = criterion(output, label)
            errG.backward()
            D_G_z2 = output.mean().item()  # noqa: F841
            optimizerG.step()
            iters += 1
            if iters == warmup:
                t0, cpu0 = time.perf_counter(), time.process_time()
            elif iters > warmup:
                images += b_size
            if iters >= warmup + steps:
                break
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - cpu0
    # cpu_seconds: this process only (the training); the workers' decoding is not in it.
    return {"images_per_s": images / seconds, "seconds": seconds, "cpu_seconds": cpu_seconds, "steps": steps,
            "images": images, "workers": workers}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(json.dumps(train_reference(args.folder, args.steps, args.warmup, args.workers), indent=2))


if __name__ == "__main__":
    main()
