"""The gallery of favourite faces: thumbnails to click back into, pick for morphing."""

from __future__ import annotations

import time

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView, QApplication, QHBoxLayout, QInputDialog, QLabel, QListView, QListWidget, QListWidgetItem, QMenu,
    QPushButton, QStyle, QVBoxLayout, QWidget,
)

from facestudio.sessions.explorer.gallery_store import GalleryEntry, GalleryStore, caption
from facestudio.ui.widgets.icons import favourite_icon

ID_ROLE = Qt.ItemDataRole.UserRole


class GalleryPanel(QWidget):
    """Shows a `GalleryStore`; the window does the restoring, adding and morphing."""

    restoreRequested = Signal(str)  # entry id
    addRequested = Signal()
    morphRequested = Signal(list)  # entry ids, in gallery order
    removed = Signal(int)
    failed = Signal(str)

    def __init__(self, store: GalleryStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        style = self.style()
        self.list = QListWidget()
        self.list.setObjectName("Gallery")
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(QSize(88, 88))
        self.list.setGridSize(QSize(104, 130))  # room for two caption lines: title, date
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemActivated.connect(lambda item: self.restoreRequested.emit(item.data(ID_ROLE)))
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.list.setToolTip("Click a face to bring it back. Ctrl/Shift-click to pick several, then Send to morph.")

        self.add_button = QPushButton(favourite_icon(), "Add face")
        self.add_button.setToolTip("Keep the current face in the gallery (Ctrl+D)")
        self.add_button.clicked.connect(self.addRequested)
        self.morph_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward), "Send to morph")
        self.morph_button.setToolTip("Morph between the selected faces (pick two or more)")
        self.morph_button.clicked.connect(self.send_selection_to_morph)
        self.remove_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_TrashIcon), "")
        self.remove_button.setToolTip("Remove the selected faces from the gallery (Delete)")
        self.remove_button.clicked.connect(self.remove_selected)
        self.empty_hint = QLabel("No favourites yet.\nPress Ctrl+D to keep the current face here.")
        self.empty_hint.setObjectName("Hint")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)

        delete = QAction("Remove", self.list)
        delete.setShortcut(QKeySequence.StandardKey.Delete)
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self.remove_selected)
        self.list.addAction(delete)
        rename = QAction("Rename", self.list)
        rename.setShortcut(QKeySequence(Qt.Key.Key_F2))
        rename.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        rename.triggered.connect(self._rename_current)
        self.list.addAction(rename)

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.morph_button)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(buttons)
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.list, 1)
        self.refresh()

    @property
    def store(self) -> GalleryStore:
        return self._store

    def refresh(self) -> None:
        """Rebuild the thumbnails from the store (keeps the selection where possible)."""
        selected = set(self.selected_ids())
        self.list.clear()
        for entry in self._store.entries:
            self.list.addItem(self._item(entry, entry.id in selected))
        empty = len(self._store) == 0
        self.empty_hint.setVisible(empty)
        self.list.setVisible(not empty)
        self._selection_changed()

    def _item(self, entry: GalleryEntry, selected: bool) -> QListWidgetItem:
        pixmap = QPixmap(str(self._store.path(entry)))
        item = QListWidgetItem(QIcon(pixmap), caption(entry))
        item.setData(ID_ROLE, entry.id)
        kept = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created))
        item.setToolTip(f"{entry.title}\nkept {kept}\nmodel: {entry.model_name} ({entry.model_sha256[:12] or 'unsaved'}), "
                        f"nz {entry.nz}\nClick to show it; F2 or right-click to rename.")
        item.setSelected(selected)
        return item

    def select_ids(self, ids: list[str]) -> None:
        wanted = set(ids)
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setSelected(item.data(ID_ROLE) in wanted)

    def selected_ids(self) -> list[str]:
        """Selected entries in gallery order (which is the morph order)."""
        return [self.list.item(i).data(ID_ROLE) for i in range(self.list.count()) if self.list.item(i).isSelected()]

    def _selection_changed(self) -> None:
        n = len(self.selected_ids())
        self.morph_button.setEnabled(n >= 2)
        self.morph_button.setText(f"Send {n} to morph" if n >= 2 else "Send to morph")
        self.remove_button.setEnabled(n >= 1)

    def _clicked(self, item: QListWidgetItem) -> None:
        mods = QApplication.keyboardModifiers()
        if not mods & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier):
            self.restoreRequested.emit(item.data(ID_ROLE))

    def send_selection_to_morph(self) -> None:
        """Ask for a morph between the selected faces (two or more), in gallery order."""
        ids = self.selected_ids()
        if len(ids) >= 2:
            self.morphRequested.emit(ids)

    def remove_selected(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        try:
            count = self._store.remove(ids)
        except Exception as exc:  # a DiskWriteError sentence, shown by the window
            self.failed.emit(str(exc))
            return
        self.refresh()
        self.removed.emit(count)

    def _rename_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._rename(item.data(ID_ROLE))

    def _rename(self, entry_id: str) -> None:
        entry = self._store.get(entry_id)
        title, ok = QInputDialog.getText(self, "Rename face", "Title:", text=entry.title)
        if ok and title.strip():
            try:
                self._store.rename(entry_id, title)
            except Exception as exc:
                self.failed.emit(str(exc))
                return
            self.refresh()

    def _context_menu(self, pos) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        entry_id = item.data(ID_ROLE)
        menu = QMenu(self)
        menu.addAction("Show this face", lambda: self.restoreRequested.emit(entry_id))
        menu.addAction("Rename...", lambda: self._rename(entry_id))
        morph = menu.addAction("Send selected to morph", self.send_selection_to_morph)
        morph.setEnabled(len(self.selected_ids()) >= 2)
        menu.addSeparator()
        menu.addAction("Remove", self.remove_selected)
        menu.popup(self.list.viewport().mapToGlobal(pos))
