"""The features of a synthetic face, each drawn on a Canvas around a Head: hair (behind
and in front of the face), eyes, brows, nose, mouth, beard and glasses.
"""

from __future__ import annotations

import math

import numpy as np

from facestudio.data.face_drawing import Canvas, EYE_RGB, Head, bezier, mix, to_rgba
from facestudio.data.face_factors import BEARD_STYLES, BROW_STYLES, EYE_COLOURS, EYE_SHAPES, GLASSES_STYLES, NOSE_STYLES


def draw_back_hair(cv: Canvas, head: Head, style: str, col, rng) -> None:
    a, b, cx, cy = head.a, head.b, head.cx, head.cy
    fill = to_rgba(col * 0.82, 1)
    if style in ("long", "bob"):
        bottom = cy + (b * 1.55 if style == "long" else b * 0.85)
        width = a * (1.28 if style == "long" else 1.22)
        top = head.outline(1.12, 40, math.pi, 2 * math.pi)
        pts = np.concatenate([
            [[cx - width, bottom]],
            top,
            [[cx + width, bottom]],
        ])
        if style == "long":  # a slightly ragged lower edge
            xs = np.linspace(cx + width, cx - width, 9)
            ys = bottom + rng.uniform(-0.015, 0.02, 9)
            pts = np.concatenate([pts, np.stack([xs, ys], 1)])
        cv.poly(pts, fill)
    elif style == "curly":
        for _ in range(34):
            t = rng.uniform(math.pi * 0.92, math.pi * 2.08)
            r = rng.uniform(1.08, 1.32)
            x = cx + a * 1.15 * r * math.cos(t)
            y = cy - 0.02 + b * 1.0 * r * math.sin(t)
            rr = rng.uniform(0.045, 0.07)
            shade = rng.uniform(0.72, 0.95)
            cv.ellipse(x, y, rr, rr, to_rgba(col * shade, 1))
    elif style == "bun":
        bx = cx + 0.02 * head.sin
        cv.ellipse(bx, cy - b * 1.18, a * 0.42, a * 0.36, fill)


def draw_front_hair(cv: Canvas, head: Head, style: str, col, rng) -> None:
    a, b, cx, cy = head.a, head.b, head.cx, head.cy
    fill = to_rgba(col, 1)
    mid = head.fx(0.0)  # forehead centre follows the yaw
    hairline = cy - b * rng.uniform(0.5, 0.62)
    if style == "bald":
        if rng.random() < 0.5:  # a horseshoe of hair on the sides
            for sgn in (-1, 1):
                side = head.outline(1.03, 14, math.pi - 0.15 if sgn < 0 else -0.35, math.pi + 0.5 if sgn < 0 else 0.15)
                inner = side[::-1].copy()
                inner[:, 0] -= sgn * 0.03
                cv.poly(np.concatenate([side, inner]), to_rgba(col, 0.95))
        # a little shine on the scalp
        cv.ellipse(cx - 0.25 * a, cy - b * 0.82, a * 0.25, b * 0.08, (255, 255, 255, 38))
        return
    vol = {"buzz": 1.02, "short": 1.08, "side_part": 1.1, "bangs": 1.1, "bob": 1.1, "long": 1.09,
           "curly": 1.12, "bun": 1.04, "spiky": 1.06}[style]
    t_l, t_r = math.pi + 0.08, 2 * math.pi - 0.08
    if style in ("bob", "long", "bangs"):
        t_l, t_r = math.pi - 0.25, 2 * math.pi + 0.25
    cap = head.outline(vol, 48, t_l, t_r)
    # hairline across the forehead (right temple -> centre -> left temple)
    r_temple = np.array([head.cx + a * 0.92 * head.cos, cy - b * 0.18])
    l_temple = np.array([head.cx - a * 0.92 * head.cos, cy - b * 0.18])
    if style == "bangs":
        fringe = cy - b * rng.uniform(0.3, 0.4)
        xs = np.linspace(cap[-1][0] - 0.01, cap[0][0] + 0.01, 12)
        ys = fringe + 0.008 * np.sin(np.linspace(0, 9, 12)) + rng.uniform(-0.004, 0.004, 12)
        inner = np.stack([xs, ys], 1)
    elif style == "side_part":
        part_left = rng.random() < 0.5
        sweep_y = hairline + b * 0.15
        if part_left:
            inner = np.concatenate([bezier(r_temple, (r_temple[0] - 0.02, sweep_y + 0.02), (mid, sweep_y), 8),
                                    bezier((mid, sweep_y), (mid - a * 0.6, hairline - 0.05), l_temple + (0, -0.05), 8)])
        else:
            inner = np.concatenate([bezier(r_temple + (0, -0.05), (mid + a * 0.6, hairline - 0.05), (mid, sweep_y), 8),
                                    bezier((mid, sweep_y), (l_temple[0] + 0.02, sweep_y + 0.02), l_temple, 8)])
    else:
        dip = 0.0 if style in ("buzz", "bun", "spiky") else rng.uniform(0.0, 0.03)
        inner = np.concatenate([
            bezier(r_temple, (r_temple[0], hairline), (mid, hairline + dip), 10),
            bezier((mid, hairline + dip), (l_temple[0], hairline), l_temple, 10),
        ])
    if style in ("bob", "long"):
        # locks framing the face down to the jaw (bob) or below the chin (long)
        low = cy + b * (0.55 if style == "bob" else 0.95)
        r_out = cap[-1]
        l_out = cap[0]
        right = np.array([[r_out[0], low], [r_out[0] - a * 0.28 * head.cos, low - 0.02],
                          [cx + a * 0.8 * head.cos + a * 0.15 * head.sin, cy - b * 0.1]])
        left = np.array([[l_out[0] + a * 0.28 * head.cos, low - 0.02], [l_out[0], low]])
        if style == "long":
            inner = np.array([[cx + a * 0.82 * head.cos + a * 0.15 * head.sin, cy - b * 0.2],
                              [mid + a * 0.25, hairline + 0.01], [mid, hairline - 0.01],
                              [mid - a * 0.25, hairline + 0.01],
                              [cx - a * 0.82 * head.cos + a * 0.15 * head.sin, cy - b * 0.2]])
        pts = np.concatenate([cap, right, inner[::1] if style == "long" else inner, [[cx - a * 0.8 * head.cos + a * 0.15 * head.sin, cy - b * 0.1]], left])
        cv.poly(pts, fill)
    elif style == "buzz":
        cv.poly(np.concatenate([cap, inner]), to_rgba(col, 0.78))
    else:
        cv.poly(np.concatenate([cap, inner]), fill)
    if style == "spiky":
        for i in range(9):
            t = math.pi * (1.12 + 0.76 * i / 8)
            base = np.array([cx + a * 1.0 * math.cos(t), cy + b * 1.0 * math.sin(t)])
            out = np.array([cx + a * 1.35 * math.cos(t), cy + b * 1.25 * math.sin(t)]) + rng.normal(0, 0.008, 2)
            perp = np.array([-math.sin(t), math.cos(t)]) * 0.035
            cv.poly([base - perp, out, base + perp], fill)
    if style == "curly":
        for _ in range(16):
            x = mid + rng.uniform(-a * 0.95, a * 0.95)
            y = hairline + rng.uniform(-0.03, 0.015)
            rr = rng.uniform(0.03, 0.045)
            cv.ellipse(x, y, rr, rr, to_rgba(col * rng.uniform(0.85, 1.05), 1))
    # a soft highlight on the crown
    if style not in ("buzz",):
        cv.ellipse(cx - 0.15 * a, cy - b * 0.93, a * 0.4, b * 0.06, to_rgba(mix(col, (255, 255, 255), 0.35), 0.35))


def draw_eye(cv: Canvas, head: Head, u: float, f, skin, rng) -> None:
    shape = EYE_SHAPES[f["eye_shape"]]
    ex = head.fx(u)
    ey = head.eye_y
    sq = head.squash(u)
    rx = (0.036 + 0.014 * f["eye_size"]) * sq
    base_ry = 0.036 + 0.014 * f["eye_size"]
    up, lo, p = {"round": (0.8, 0.72, 0.5), "almond": (0.62, 0.42, 0.75), "narrow": (0.36, 0.28, 0.8),
                 "hooded": (0.5, 0.45, 0.6)}[shape]
    up *= base_ry; lo *= base_ry
    tilt = 0.006 if shape == "almond" else 0.0
    side = 1 if u > 0 else -1
    xs = np.linspace(-1, 1, 21)
    prof = np.clip(1 - xs**2, 0, 1) ** p
    upper = np.stack([ex + rx * xs, ey - up * prof - tilt * xs * side], 1)
    lower = np.stack([ex + rx * xs, ey + lo * prof - tilt * xs * side], 1)
    cv.poly(np.concatenate([upper, lower[::-1]]), (250, 248, 244, 255))
    # iris and pupil, clipped to the lids
    gaze = 0.35 * head.sin * rx
    ir = min(base_ry * 0.62, (up + lo) * 0.75) * (1.0 if shape != "narrow" else 1.25)
    t = np.linspace(0, 2 * math.pi, 28)
    ix, iy = ex + gaze, ey + 0.0
    iris = np.stack([ix + ir * sq * np.cos(t), iy + ir * np.sin(t)], 1)

    def clip(pts):
        rel = np.clip((pts[:, 0] - ex) / rx, -1, 1)
        pr = np.clip(1 - rel**2, 0, 1) ** p
        y_top = ey - up * pr - tilt * rel * side
        y_bot = ey + lo * pr - tilt * rel * side
        inside = np.abs(pts[:, 0] - ex) <= rx
        out = pts.copy()
        out[:, 1] = np.clip(pts[:, 1], y_top, y_bot)
        out[~inside, 1] = ey
        return out

    ecol = np.array(EYE_RGB[EYE_COLOURS[f["eye_colour"]]], dtype=np.float64)
    cv.poly(clip(iris), to_rgba(ecol, 1))
    pr_ = ir * 0.48
    pupil = np.stack([ix + pr_ * sq * np.cos(t), iy + pr_ * np.sin(t)], 1)
    cv.poly(clip(pupil), (18, 14, 14, 255))
    hl = 0.35 * ir
    cv.ellipse(ix + (0.25 * f["light"] + 0.2) * ir * sq, iy - 0.35 * ir, hl * 0.6, hl * 0.6, (255, 255, 255, 220))
    # lids: a dark upper lash line, thicker for hooded eyes, a faint lower one
    lid_w = 0.0075 if shape != "hooded" else 0.006
    widths = np.concatenate([np.linspace(0.3, 1.0, 11), np.linspace(1.0, 0.5, 10)]) * lid_w
    if side < 0:
        widths = widths[::-1]
    cv.ribbon(upper, widths, (38, 26, 24, 255))
    if shape == "hooded":
        fold = upper.copy()
        fold[:, 1] -= 0.012
        cv.ribbon(fold[3:-2], 0.009, to_rgba(skin * 0.78, 0.85))
    cv.ribbon(lower[4:-4], 0.0025, to_rgba(skin * 0.6, 0.7))


def draw_brow(cv: Canvas, head: Head, u: float, f, col, rng) -> None:
    style = BROW_STYLES[f["brow_style"]]
    side = 1 if u > 0 else -1
    sq = head.squash(u)
    ex = head.fx(u)
    by = head.eye_y - 0.055 - 0.01 * f["eye_size"]
    w = 0.052 * sq
    xs = np.linspace(-1, 1, 13)
    if style == "arched":
        ys = by - 0.016 * (1 - (xs * 0.9 + 0.25 * side) ** 2)
    elif style == "angled":
        ys = by + 0.01 * xs * side - 0.006 * (1 - xs**2)
    else:
        ys = by - 0.008 * (1 - xs**2)
    pts = np.stack([ex + w * xs, ys], 1)
    thick = {"thin": 0.008, "thick": 0.017, "arched": 0.011, "angled": 0.014}[style]
    inner_to_outer = np.linspace(1.0, 0.45, 13)
    widths = thick * (inner_to_outer if side > 0 else inner_to_outer[::-1])
    cv.ribbon(pts, widths, to_rgba(col, 0.95))


def draw_nose(cv: Canvas, head: Head, f, skin, light: float) -> None:
    style = NOSE_STYLES[f["nose_style"]]
    s = 0.8 + 0.45 * f["nose_size"]
    tip_x = head.fx(0.0, 1.18)
    ny = head.eye_y + 0.085 + 0.012 * s
    shade = to_rgba(skin * 0.7, 0.75)
    dark = to_rgba(skin * 0.45, 0.85)
    shadow_side = -1 if light > 0 else 1
    if style == "button":
        cv.ellipse(tip_x, ny - 0.004, 0.022 * s, 0.017 * s, to_rgba(skin * 0.88, 0.9))
        cv.ellipse(tip_x - 0.008 * light, ny - 0.009, 0.007 * s, 0.005 * s, (255, 255, 255, 70))
        for sg in (-1, 1):
            cv.ellipse(tip_x + sg * 0.012 * s * head.cos, ny + 0.008, 0.005 * s, 0.0035 * s, dark)
    elif style == "long":
        top = (head.fx(0.05 * shadow_side, 1.05), head.eye_y - 0.02)
        pts = np.concatenate([
            bezier(top, (tip_x + shadow_side * 0.012, ny - 0.04), (tip_x + shadow_side * 0.01, ny + 0.002), 10),
            bezier((tip_x + shadow_side * 0.01, ny + 0.002), (tip_x, ny + 0.016 * s), (tip_x - shadow_side * 0.02 * s, ny + 0.006), 8),
        ])
        cv.line(pts, shade, 0.006)
    elif style == "wide":
        cv.ellipse(tip_x, ny, 0.016 * s, 0.013 * s, to_rgba(skin * 0.9, 0.9))
        for sg in (-1, 1):
            cx = tip_x + sg * 0.022 * s * head.squash(0.2 * sg)
            arc = bezier((cx - sg * 0.004, ny - 0.014), (cx + sg * 0.014, ny - 0.002), (cx - sg * 0.006, ny + 0.012), 8)
            cv.line(arc, shade, 0.005)
            cv.ellipse(tip_x + sg * 0.011 * s, ny + 0.008, 0.0065 * s, 0.004 * s, dark)
    else:  # pointed: a shaded triangle on the side away from the light
        top = (head.fx(0.0, 1.05), head.eye_y + 0.0)
        tri = [top, (tip_x + shadow_side * 0.004, ny + 0.012 * s), (tip_x + shadow_side * 0.024 * s, ny + 0.01 * s)]
        cv.poly(tri, to_rgba(skin * 0.7, 0.5))
        cv.line([(tip_x - 0.016 * s, ny + 0.012 * s), (tip_x, ny + 0.017 * s), (tip_x + 0.016 * s, ny + 0.012 * s)], shade, 0.005)


def draw_mouth(cv: Canvas, head: Head, f, skin, rng) -> None:
    smile = f["smile"]
    mx = head.fx(0.0, 1.0)
    my = head.eye_y + 0.145 + 0.01 * (head.b - 0.265) / 0.03
    sq = head.squash(0.0)
    w = (0.05 + 0.028 * f["mouth_width"] + 0.01 * smile) * sq
    lip = mix(skin, (176, 62, 72), 0.42) * 0.92
    curve = (smile - 0.3) * 0.05
    xs = np.linspace(-1, 1, 21)
    # put the far corner a little closer (foreshortening) and shift with yaw
    xs_s = mx + w * xs
    if smile > 0.62:
        open_h = 0.012 + 0.05 * (smile - 0.62)
        upper = np.stack([xs_s, my - curve * 0.35 * (1 - xs**2) * 0 - curve * xs**2 * 0.5], 1)
        lower = np.stack([xs_s, my - curve * xs**2 * 0.5 + open_h * (1 - xs**2) ** 0.8 + 0.004 * (1 - xs**2)], 1)
        mouth = np.concatenate([upper, lower[::-1]])
        cv.poly(mouth, (92, 28, 34, 255))
        # teeth: an upper band clipped to the mouth
        teeth_low = np.stack([xs_s[2:-2], upper[2:-2, 1] + np.minimum(open_h * 0.45, (lower[2:-2, 1] - upper[2:-2, 1]) * 0.6)], 1)
        cv.poly(np.concatenate([upper[2:-2], teeth_low[::-1]]), (246, 243, 236, 255))
        cv.ribbon(lower, 0.007 * np.clip(1 - xs**2, 0.2, 1), to_rgba(lip, 0.9))
        cv.ribbon(upper, 0.004, to_rgba(lip * 0.85, 0.9))
    else:
        line = np.stack([xs_s, my - curve * (xs**2 - 0.3)], 1)
        lip_h = 0.009 + 0.006 * rng.random()
        lower = np.stack([xs_s[3:-3], line[3:-3, 1] + lip_h * (1 - xs[3:-3] ** 2) ** 0.7 + 0.002], 1)
        cv.poly(np.concatenate([line[3:-3], lower[::-1]]), to_rgba(lip, 0.85))
        upper_lip = np.stack([xs_s[3:-3], line[3:-3, 1] - 0.006 * (1 - xs[3:-3] ** 2) ** 0.5], 1)
        cv.poly(np.concatenate([upper_lip, line[3:-3][::-1]]), to_rgba(lip * 0.88, 0.8))
        cv.line(line, to_rgba(lip * 0.45, 0.95), 0.0045)
    if smile > 0.45:  # smile lines lift the cheeks
        for sg in (-1, 1):
            cxk = mx + sg * (w + 0.012)
            arc = bezier((cxk - sg * 0.004, my - 0.03), (cxk + sg * 0.008, my - 0.008), (cxk, my + 0.01), 8)
            cv.line(arc, to_rgba(skin * 0.72, 0.35 + 0.5 * (smile - 0.45)), 0.004)


def draw_beard(cv: Canvas, head: Head, f, col, skin, rng) -> None:
    style = BEARD_STYLES[f["beard_style"]]
    mx = head.fx(0.0, 1.0)
    my = head.eye_y + 0.145
    a, b = head.a, head.b
    mous = np.concatenate([
        bezier((mx - 0.058 * head.squash(-0.3), my + 0.008), (mx - 0.03, my - 0.03), (mx, my - 0.018), 8),
        bezier((mx, my - 0.018), (mx + 0.03, my - 0.03), (mx + 0.058 * head.squash(0.3), my + 0.008), 8),
        bezier((mx + 0.058 * head.squash(0.3), my + 0.008), (mx + 0.03, my - 0.006), (mx, my - 0.006), 6),
        bezier((mx, my - 0.006), (mx - 0.03, my - 0.006), (mx - 0.058 * head.squash(-0.3), my + 0.008), 6),
    ])
    if style == "full":
        jaw = head.outline(1.03, 40, -0.05, math.pi + 0.05)
        mouth_y = my - 0.012
        top = np.array([
            (head.fx(-0.97, 0.2), head.eye_y + 0.01), (head.fx(-0.7), head.eye_y + 0.1),
            (head.fx(-0.42), mouth_y + 0.004), (mx, mouth_y - 0.008), (head.fx(0.42), mouth_y + 0.004),
            (head.fx(0.7), head.eye_y + 0.1), (head.fx(0.97, 0.2), head.eye_y + 0.01),
        ])
        cv.poly(np.concatenate([jaw, top]), to_rgba(col, 1.0))
        cv.poly(mous, to_rgba(col * 0.9, 1))
    elif style == "stubble":
        jaw = head.outline(1.0, 40, 0.05, math.pi - 0.05)
        upper = np.stack([jaw[::-1, 0], np.maximum(head.eye_y + 0.08, jaw[::-1, 1] - 0.13)], 1)
        cv.poly(np.concatenate([jaw, upper]), to_rgba(col * 0.7, 0.33))
    elif style == "goatee":
        chin_y = head.cy + b * 0.98
        g = np.concatenate([
            bezier((mx - 0.035, my + 0.012), (mx - 0.04, chin_y - 0.01), (mx, chin_y + 0.008), 10),
            bezier((mx, chin_y + 0.008), (mx + 0.04, chin_y - 0.01), (mx + 0.035, my + 0.012), 10),
        ])
        cv.poly(g, to_rgba(col, 1))
        cv.poly(mous, to_rgba(col * 0.9, 1))
        cv.ellipse(mx, my + 0.012, 0.036, 0.012, to_rgba(skin, 1))
    else:  # moustache
        cv.poly(mous, to_rgba(col, 1))


def draw_glasses(cv: Canvas, head: Head, f, eye_u: float, rng) -> None:
    style = GLASSES_STYLES[f["glasses_style"]]
    frame_cols = [(24, 22, 22), (92, 52, 28), (186, 160, 90), (150, 150, 158), (150, 30, 40), (30, 50, 110)]
    frame = frame_cols[int(rng.integers(len(frame_cols)))]
    if style == "sunglasses":
        frame = frame_cols[int(rng.integers(2))]
    fw = 0.006 if style != "sunglasses" else 0.007
    ey = head.eye_y + 0.002
    centres = []
    for u in (-eye_u, eye_u):
        sq = head.squash(u)
        x = head.fx(u, math.sqrt(1 - u * u) + 0.12)
        if style == "round":
            rx, ry = 0.058 * sq, 0.054
        elif style == "rectangular":
            rx, ry = 0.064 * sq, 0.043
        else:
            rx, ry = 0.066 * sq, 0.05
        centres.append((x, rx, ry, u))
        if style == "round":
            cv.ellipse(x, ey, rx, ry, (230, 240, 250, 40), outline=frame + (255,), width=fw)
        elif style == "rectangular":
            cv.rounded_rect(x, ey, rx, ry, 0.014, (230, 240, 250, 40), frame + (255,), fw)
        else:
            t = np.linspace(0, 2 * math.pi, 32)
            pts = np.stack([x + rx * np.cos(t), ey + ry * np.sin(t) * np.where(np.sin(t) > 0, 1.1, 0.75)], 1)
            cv.poly(pts, (20, 22, 30, 238))
            cv.line(np.concatenate([pts, pts[:1]]), frame + (255,), fw)
            cv.ellipse(x - rx * 0.35, ey - ry * 0.3, rx * 0.25, ry * 0.15, (255, 255, 255, 60))
    (x0, rx0, _, _), (x1, rx1, _, _) = centres
    bridge = bezier((x0 + rx0, ey - 0.008), ((x0 + x1) / 2, ey - 0.02), (x1 - rx1, ey - 0.008), 8)
    cv.line(bridge, frame + (255,), fw * 0.9)
    for x, rx, _, u in centres:
        if head.visible(u * 2, 0.2):
            sgn = 1 if u > 0 else -1
            edge = head.fx(sgn * 0.98, 0.1)
            cv.line([(x + sgn * rx, ey - 0.01), (edge, ey - 0.016)], frame + (255,), fw * 0.9)
