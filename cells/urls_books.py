from django.urls import path

from . import views_books as views

app_name = "books"

urlpatterns = [
    path("", views.books_index, name="books_index"),
    path("chi-bo/<int:pk>/", views.books_cell, name="books_cell"),
    # party dues
    path("chi-bo/<int:pk>/dang-phi/", views.dues_ledger, name="books_dues_ledger"),
    path("chi-bo/<int:pk>/dang-phi/lap-so/", views.dues_month_open, name="books_dues_open"),
    path("chi-bo/<int:pk>/dang-phi/ghi/", views.dues_payment_record, name="books_dues_record"),
    path("chi-bo/<int:pk>/dang-phi/so.pdf", views.dues_ledger_pdf, name="books_dues_pdf"),
    path("chi-bo/<int:pk>/dang-phi/so.xlsx", views.dues_ledger_xlsx, name="books_dues_xlsx"),
    path("chi-bo/<int:pk>/dang-phi/nop-cap-tren/", views.dues_remittance_record, name="books_dues_remit"),
    path(
        "chi-bo/<int:pk>/dang-phi/nop-cap-tren/<int:line_pk>/sua/",
        views.dues_remittance_edit,
        name="books_dues_remit_edit",
    ),
    path(
        "chi-bo/<int:pk>/dang-phi/nop-cap-tren/<int:line_pk>/xoa/",
        views.dues_remittance_delete,
        name="books_dues_remit_delete",
    ),
    path("chi-bo/<int:pk>/kinh-phi/ghi/", views.fund_entry_record, name="books_fund_entry"),
    path("chi-bo/<int:pk>/kinh-phi/<int:line_pk>/sua/", views.fund_entry_edit, name="books_fund_entry_edit"),
    path("chi-bo/<int:pk>/kinh-phi/<int:line_pk>/xoa/", views.fund_entry_delete, name="books_fund_entry_delete"),
    path("to-chuc/<int:pk>/no-dang-phi/", views.dues_arrears, name="books_dues_arrears"),
    path("to-chuc/<int:pk>/dia-ban-dang-phi/", views.dues_area, name="books_dues_area"),
    path("to-chuc/<int:pk>/chua-nop-dang-phi/", views.dues_unremitted, name="books_dues_unremitted"),
    path("dang-vien/<int:pk>/dang-phi/", views.member_dues, name="books_member_dues"),
    path("dang-vien/<int:pk>/mien-giam-dang-phi/", views.dues_relief, name="books_dues_relief"),
    # required documents
    path("chi-bo/<int:pk>/van-ban/", views.cell_documents, name="books_cell_documents"),
    path("chi-bo/<int:pk>/van-ban/<int:type_pk>/tai-len/", views.document_upload, name="books_document_upload"),
    path("van-ban/<int:pk>/tai-ve/", views.document_download, name="books_document_download"),
    path("to-chuc/<int:pk>/van-ban/", views.documents_table, name="books_documents_table"),
    # yearly commitments
    path("cam-ket/", views.commitment_mine, name="books_commitment_mine"),
    path("chi-bo/<int:pk>/cam-ket/", views.commitments_cell, name="books_commitments"),
    path("chi-bo/<int:pk>/cam-ket/<int:member_pk>/ban-giay/", views.commitment_paper, name="books_commitment_paper"),
    # member lifecycle
    path("chi-bo/<int:pk>/dang-vien/", views.lifecycle_cell, name="books_lifecycle"),
    path("dang-vien/<int:pk>/ket-nap/", views.member_admission, name="books_member_admission"),
    path("dang-vien/<int:pk>/chinh-thuc/", views.member_full_membership, name="books_member_full_membership"),
    path("dang-vien/<int:pk>/ket-thuc-mien/", views.member_exemption_end, name="books_member_exemption_end"),
    path("dang-vien/<int:pk>/dinh-chi/", views.member_suspension, name="books_member_suspension"),
    path("dang-vien/<int:pk>/ra-khoi-dang/", views.member_removal, name="books_member_removal"),
]
