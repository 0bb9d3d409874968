/* Shot thumbnails as JPEG, by libavcodec's MJPEG encoder (full-range
 * YUV 4:2:0, quality 4 of 2..31), written whole or not at all. */
#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "base/fs.h"
#include "video/video_internal.h"

int lens__video_write_jpeg(const char *path, const uint8_t *rgb, int w, int h, lens_error *err)
{
    const AVCodec *c = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (!c) return lens_error_set(err, LENS_EUNSUP, "%s: this FFmpeg has no JPEG encoder", path);
    AVCodecContext *e = avcodec_alloc_context3(c);
    AVFrame *f = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    struct SwsContext *sws = NULL;
    lens__afile *a = NULL;
    int rc = 0;
    if (!e || !f || !pkt) {
        rc = lens_error_set(err, LENS_ENOMEM, "out of memory");
        goto done;
    }
    e->width = w, e->height = h;
    e->pix_fmt = AV_PIX_FMT_YUVJ420P;
    e->time_base = (AVRational){1, 25};
    e->flags |= AV_CODEC_FLAG_QSCALE;
    e->global_quality = FF_QP2LAMBDA * 4;
    f->format = e->pix_fmt, f->width = w, f->height = h;
    f->quality = e->global_quality;
    sws = sws_getContext(w, h, AV_PIX_FMT_RGB24, w, h, AV_PIX_FMT_YUVJ420P, SWS_BICUBIC, NULL, NULL, NULL);
    if (!sws || avcodec_open2(e, c, NULL) < 0 || av_frame_get_buffer(f, 0) < 0) {
        rc = lens_error_set(err, LENS_EUNSUP, "%s: cannot set up the JPEG encoder", path);
        goto done;
    }
    const uint8_t *src[4] = {rgb};
    int stride[4] = {3 * w};
    sws_scale(sws, src, stride, 0, h, f->data, f->linesize);
    if (avcodec_send_frame(e, f) < 0 || avcodec_send_frame(e, NULL) < 0 || avcodec_receive_packet(e, pkt) < 0) {
        rc = lens_error_set(err, LENS_EUNSUP, "%s: JPEG encoding failed", path);
        goto done;
    }
    if ((rc = lens__afile_open(&a, path, err))) goto done;
    fwrite(pkt->data, 1, (size_t)pkt->size, lens__afile_stream(a));
    rc = lens__afile_commit(a, err);
done:
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&f);
    avcodec_free_context(&e);
    return rc;
}
