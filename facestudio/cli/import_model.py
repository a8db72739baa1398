"""`facestudio import PATH -o OUT.safetensors`: convert a DCGAN-tutorial checkpoint or a
StyleGAN2-ADA / StyleGAN3 network pickle (read without running it) into FaceStudio's format."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", type=Path, help="netG .pth (a state dict, or a dict holding netG/netD state dicts), "
                                           "or a StyleGAN2-ADA / StyleGAN3 network .pkl")
    p.add_argument("--netd", type=Path, help="the matching netD .pth, to keep the realism meter")
    p.add_argument("-o", "--output", type=Path, required=True, help="the FaceStudio model file to write (.safetensors)")
    p.add_argument("--name", help="model name shown in the app (default: the file name)")


def run(args: argparse.Namespace) -> int:
    from facestudio.atomic_file import check_parent
    from facestudio.errors import ModelFileError
    from facestudio.models.checkpoint import save_model
    from facestudio.models.dcgan_import import load_foreign_checkpoint

    output = check_parent(args.output)
    if output.suffix.lower() != ".safetensors":
        raise ModelFileError(f"The output {output} must end in .safetensors, the format FaceStudio writes; for example -o {output.with_suffix('.safetensors').name}.")
    for source in (args.path, args.netd):
        if source is not None and output.resolve() == Path(source).resolve():
            raise ModelFileError(f"The output {output} is the checkpoint being imported; choose another file name so the original is kept.")
    if Path(args.path).suffix.lower() in (".pkl", ".pickle"):
        return _import_stylegan(args)
    bundle = load_foreign_checkpoint(args.path, args.netd)
    if args.name:
        bundle.config = bundle.config.replace(name=args.name)
    digest = save_model(bundle, args.output)
    c = bundle.config
    parts = "generator + discriminator" if bundle.discriminator is not None else "generator only"
    print(f"wrote {args.output}: {c.image_size} px, nz={c.nz}, ngf={c.ngf}, ndf={c.ndf}, {parts}, sha256 {digest[:12]}")
    return 0


def _import_stylegan(args: argparse.Namespace) -> int:
    from facestudio.errors import ModelFileError
    from facestudio.models.checkpoint import save_model
    from facestudio.models.stylegan.pickle_import import load_stylegan_pickle

    if args.netd is not None:
        raise ModelFileError("--netd is for DCGAN checkpoints; a StyleGAN pickle carries its own discriminator.")
    bundle = load_stylegan_pickle(args.path)
    if args.name:
        bundle.config = bundle.config.replace(name=args.name)
    digest = save_model(bundle, args.output)
    c, g = bundle.config, bundle.generator
    parts = "generator + discriminator" if bundle.discriminator is not None else "generator only"
    cond = f", {c.c_dim} classes" if c.c_dim else ""
    print(f"wrote {args.output}: {c.family}, {c.img_resolution} px, z {c.z_dim}, w {g.w_dim} x {g.num_ws}{cond}, "
          f"{parts}, sha256 {digest[:12]}")
    return 0
