"""Web links in a mail, by where they lead: a cloud drive (or a mail provider's large-attachment download),
a video site, a press report, or elsewhere. Pure: the host lists are the whole of what it knows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

LinkKind = Literal["press", "drive", "video", "other"]

# Hosts (and their subdomains) whose links are media: branches put press coverage, videos and cloud-drive
# folders (photos too large to attach) in the body. Links elsewhere (signatures, client ads) are not.
DRIVE_HOSTS = (
    "pan.baidu.com",
    "yun.baidu.com",
    "pan.quark.cn",
    "pan.xunlei.com",
    "cloud.189.cn",
    "caiyun.139.com",
    "yun.139.com",
    "aliyundrive.com",
    "alipan.com",
    "weiyun.com",
    "115.com",
    "yunpan.360.cn",
    "jianguoyun.com",
    "wenshushu.cn",
    "lanzoui.com",
    "lanzoux.com",
    "lanzouw.com",
    "docs.qq.com",
    "kdocs.cn",
    "drive.google.com",
    "onedrive.live.com",
    "1drv.ms",
    "sharepoint.com",
    "dropbox.com",
    "icloud.com",
)
VIDEO_HOSTS = (
    "v.qq.com",
    "bilibili.com",
    "b23.tv",
    "ixigua.com",
    "douyin.com",
    "kuaishou.com",
    "channels.weixin.qq.com",
    "youku.com",
    "iqiyi.com",
    "youtube.com",
    "youtu.be",
)
PRESS_HOSTS = (
    "mp.weixin.qq.com",
    "weibo.com",
    "weibo.cn",
    "toutiao.com",
    "baijiahao.baidu.com",
    "xinhuanet.com",
    "news.cn",
    "people.com.cn",
    "cctv.com",
    "cnr.cn",
    "chinanews.com",
    "chinanews.com.cn",
    "gmw.cn",
    "china.com.cn",
    "chinadaily.com.cn",
    "stdaily.com",
    "thepaper.cn",
    "cast.org.cn",
    "kepuchina.cn",
    "cnpc.com.cn",
    "cnpcnews.com",
    "sinopecnews.com.cn",
    "new.qq.com",
    "news.qq.com",
    "sohu.com",
    "163.com",
    "sina.com.cn",
    "ifeng.com",
)
# Official and academic sites publish activity news.
PRESS_SUFFIXES = (".gov.cn", ".edu.cn")
# Mail providers' "large attachment" downloads (host, a word of the path): a cloud drive by another name, and
# one that expires. QQ Mail's 超大附件 (mail.qq.com/cgi-bin/ftnExs_download, wx.mail.qq.com/ftn/download);
# NetEase's 超大附件/云附件 (mail.163.com/large-attachment-download, also for 126; older ones and previews on
# fs.163.com/fs/); NetEase's enterprise mail; Sina's 中转站.
LARGE_ATTACHMENTS = (
    ("mail.qq.com", "ftn"),
    ("wx.mail.qq.com", "ftn"),
    ("mail.163.com", "large-attachment"),
    ("mail.126.com", "large-attachment"),
    ("fs.163.com", "/fs/"),
    ("fs.qiye.163.com", "/fs/"),
    ("edisk.qiye.163.com", "attachment"),
    ("mail.sina.com.cn", "filecenter"),
)


@dataclass(frozen=True)
class Link:
    url: str
    host: str
    kind: LinkKind


def classify_link(url: str) -> Link:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:  # a malformed port or IPv6 literal
        return Link(url, "", "other")
    path = parts.path.lower()
    if any(_under(host, drive) for drive in DRIVE_HOSTS) or any(
        _under(host, mail) and marker in path for mail, marker in LARGE_ATTACHMENTS
    ):
        return Link(url, host, "drive")
    if any(_under(host, video) for video in VIDEO_HOSTS):
        return Link(url, host, "video")
    if _webmail(host):
        return Link(url, host, "other")
    if any(_under(host, press) for press in PRESS_HOSTS) or host.endswith(PRESS_SUFFIXES) or _newsy(host):
        return Link(url, host, "press")
    return Link(url, host, "other")


def _under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _newsy(host: str) -> bool:
    return "news" in host.split(".")[:-1]


def _webmail(host: str) -> bool:
    # "发自网易邮箱大师" and the like: a mail client's link in a signature, on a news portal's domain.
    return host.split(".")[0] in ("mail", "email", "exmail", "webmail")
