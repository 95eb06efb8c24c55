"""Web links in a summary mail, by what they point at: press coverage, a video, a cloud drive (photos too large
to attach), or something else (a signature, a client's advert). Pure: the host decides."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.summary.records import Link

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
# Mail providers' "large attachment" downloads: a cloud drive by another name.
LARGE_ATTACHMENTS = (("mail.qq.com", "ftn"), ("wx.mail.qq.com", "ftn"), ("mail.163.com", "large-attachment"))
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
