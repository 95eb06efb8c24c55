"""Choices marked by their look (bold, highlight, shading, colour) instead of a tick: read when one
look sets some options apart, never when it sets apart all of them or two looks disagree."""

from __future__ import annotations

import io

import docx
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import RGBColor

from parsers.blocks import Row, Styled
from parsers.docx_blocks import read_docx_blocks
from parsers.marks import read_choices

OPTIONS = ("团结引领", "建家办事", "为民服务", "开放合作", "表彰发布")
PRINTED = "团结引领（ ）\t建家办事（ ）\t为民服务（ ）\t开放合作（ ）\t表彰发布（ ）"


def test_the_options_one_look_sets_apart_are_chosen() -> None:
    styled = [Styled("bold", "团结引领"), Styled("bold", "为民"), Styled("bold", "服务（ ）")]
    assert read_choices(PRINTED, OPTIONS, styled).selected == ("团结引领",)
    bare = "团结引领 建家办事 为民服务 开放合作 表彰发布"
    assert read_choices(bare, OPTIONS, [Styled("highlight", "建家 办事")]).selected == ("建家办事",)


def test_a_stretch_holding_several_options_marks_each() -> None:
    styled = [Styled("shading", "团结引领（ ）\t建家办事（ ）")]
    assert read_choices(PRINTED, OPTIONS, styled).selected == ("团结引领", "建家办事")


def test_every_option_alike_marks_none() -> None:
    styled = [Styled("bold", option) for option in OPTIONS]
    chosen = read_choices(PRINTED, OPTIONS, styled)
    assert (chosen.selected, chosen.unclear) == ((), ())


def test_two_looks_that_disagree_mark_none() -> None:
    styled = [Styled("bold", "团结引领"), Styled("colour", "为民服务")]
    assert read_choices(PRINTED, OPTIONS, styled).selected == ()


def test_two_looks_that_agree_mark_their_options() -> None:
    styled = [Styled("bold", "为民服务"), Styled("colour", "为民服务")]
    assert read_choices(PRINTED, OPTIONS, styled).selected == ("为民服务",)


def test_a_tick_wins_over_a_look() -> None:
    ticked = PRINTED.replace("建家办事（ ）", "建家办事（√）")
    assert read_choices(ticked, OPTIONS, [Styled("bold", "团结引领")]).selected == ("建家办事",)


def test_an_unreadable_mark_is_not_overridden_by_a_look() -> None:
    unclear = PRINTED.replace("建家办事（ ）", "建家办事（?）")
    chosen = read_choices(unclear, OPTIONS, [Styled("bold", "团结引领")])
    assert (chosen.selected, chosen.unclear) == ((), ("建家办事",))


def test_empty_boxes_and_a_highlight() -> None:
    boxes = "  ".join(f"☐{option}" for option in OPTIONS)
    assert read_choices(boxes, OPTIONS, [Styled("highlight", "开放合作")]).selected == ("开放合作",)


def test_options_deleted_read_as_before() -> None:
    # The options not chosen were deleted: what is left is chosen, whatever its look.
    assert read_choices("团结引领、为民服务", OPTIONS, [Styled("bold", "团结引领")]).selected == (
        "团结引领",
        "为民服务",
    )


def _cell_looks(build: list[tuple[str, str]]) -> tuple[Styled, ...]:
    document = docx.Document()
    paragraph = document.add_table(rows=1, cols=1).cell(0, 0).paragraphs[0]
    for text, how in build:
        run = paragraph.add_run(text)
        if how == "bold":
            run.bold = True
        elif how == "not bold":
            run.bold = False
        elif how == "highlight":
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        elif how == "red":
            run.font.color.rgb = RGBColor(0xFF, 0, 0)
        elif how == "black":
            run.font.color.rgb = RGBColor(0, 0, 0)
        elif how in ("shaded", "white"):
            shading = OxmlElement("w:shd")
            shading.set(qn("w:val"), "clear")
            shading.set(qn("w:fill"), "FFFF00" if how == "shaded" else "FFFFFF")
            run._r.get_or_add_rPr().append(shading)
    out = io.BytesIO()
    document.save(out)
    rows = [block for block in read_docx_blocks(out.getvalue()) if isinstance(block, Row)]
    return rows[0].styled_in(0)


def test_a_docx_cell_gives_its_stretches_of_each_look() -> None:
    looks = _cell_looks(
        [("团结", "bold"), ("引领", "bold"), ("（ ）", ""), ("建家办事", "highlight"), ("为民服务", "red")]
    )
    assert looks == (Styled("bold", "团结引领"), Styled("highlight", "建家办事"), Styled("colour", "为民服务"))
    assert _cell_looks([("开放合作", "shaded")]) == (Styled("shading", "开放合作"),)


def test_formatting_that_looks_plain_is_no_look() -> None:
    assert _cell_looks([("团结引领", "not bold"), ("建家办事", "black"), ("为民服务", "white"), ("  ", "bold")]) == ()
