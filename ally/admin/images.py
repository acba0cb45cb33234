"""The image library: upload (verified by Pillow), edit title and alt text, delete."""

import sqlalchemy as sa
from flask import abort
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for

from ally import audit
from ally import images
from ally.extensions import db
from ally.models import Image
from ally.site.paging import page_number_arg
from ally.site.paging import paginate

from .base import bp
from .base import requires
from .editor import image_json
from .forms import ImageEditForm
from .forms import ImageUploadForm


def create_image(upload, title: str, alt: str) -> Image:
    """Verify and store an upload; raises ImageError with a message for the author."""
    data, extension, width, height = images.read_upload(upload.stream, upload.filename or "")
    filename = images.store_original(data, extension)
    image = Image(
        title=title, alt=alt, filename=filename, width=width, height=height, file_size=len(data)
    )
    db.session.add(image)
    db.session.flush()
    audit.record("image_upload", image, image.title)
    db.session.commit()
    return image


@bp.route("/images/", methods=["GET", "POST"])
@requires("images")
def image_library():
    form = ImageUploadForm()
    status = 200
    if form.validate_on_submit():
        try:
            image = create_image(form.file.data, form.title.data, form.alt.data)
        except images.ImageError as error:
            form.file.errors.append(str(error))
            status = 400
        else:
            flash(f"“{image.title}” uploaded.", "success")
            return redirect(url_for("admin.image_library"), code=303)
    elif form.is_submitted():
        status = 400
    library = paginate(sa.select(Image).order_by(Image.id.desc()), page_number_arg(), 48)
    return render_template("admin/images/library.html", form=form, library=library), status


@bp.post("/images/upload.json")
@requires("images")
def image_upload_json():
    """The editor's Image block uploads here and gets the new image back as JSON."""
    upload = request.files.get("file")
    title = (request.form.get("title") or (upload.filename if upload else "") or "").strip()[:255]
    alt = (request.form.get("alt") or "").strip()[:255]
    if upload is None or not upload.filename:
        return jsonify(message="Choose an image to upload."), 400
    try:
        image = create_image(upload, title or "Untitled image", alt)
    except images.ImageError as error:
        return jsonify(message=str(error)), 400
    return jsonify(image_json(image)), 201


@bp.route("/images/<int:image_id>/", methods=["GET", "POST"])
@requires("images")
def image_edit(image_id: int):
    image = db.session.get(Image, image_id) or abort(404)
    form = ImageEditForm(obj=image)
    if form.validate_on_submit():
        form.populate_obj(image)
        db.session.commit()
        flash("Image saved.", "success")
        return redirect(url_for("admin.image_library"), code=303)
    return render_template(
        "admin/images/edit.html", form=form, image=image
    ), 400 if form.errors else 200


@bp.post("/images/<int:image_id>/delete/")
@requires("catalog")
def image_delete(image_id: int):
    image = db.session.get(Image, image_id) or abort(404)
    images.delete_files(image)
    audit.record("image_delete", image, image.title)
    db.session.delete(image)
    db.session.commit()
    flash(f"“{image.title}” deleted. Blocks that showed it now show nothing.", "success")
    return redirect(url_for("admin.image_library"), code=303)
