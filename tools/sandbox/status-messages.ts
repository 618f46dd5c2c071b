import type { Values } from './prefill.js';

/**
 * What a citizen is told happens next (Chinese). A case under review is described only as
 * needing manual review: never why.
 */
export const UNDER_REVIEW_MESSAGE =
  '您的申请已提交，需要工作人员人工审核。审核完成后将通过随申办消息通知您，您也可以在“我的办件”中查看进度。';

export const DRAFT_MESSAGE = '申请草稿已创建，正在提交。';

export function issuedMessage(serviceId: string): string {
  if (serviceId === 'criminal_record_certificate') {
    return '证明已出具，电子证明已发送至您的随申办“卡包”，可直接出示或下载使用，使用单位可扫码核验真伪。';
  }
  return '您的申请已办结，办理结果已同步至随申办“我的办件”。';
}

export function submittedMessage(serviceId: string, fields: Values): string {
  switch (serviceId) {
    case 'social_security_card':
      return fields.delivery_method === '邮寄到家'
        ? '您的社会保障卡申领已提交。制卡完成后将通过邮政寄送到您填写的邮寄地址，制卡及寄送时间以人社部门实际办理为准，可在“我的办件”中查看进度。'
        : '您的社会保障卡申领已提交。制卡完成后会短信通知您到所选服务网点领取，领卡时请携带本人身份证件；制卡时间以人社部门实际办理为准。';
    case 'maternity_allowance':
      return '您的生育津贴申领已提交。医保部门将根据共享数据核定津贴金额，核定通过后发放至您确认的银行账户，进度可在“我的办件”中查看。';
    case 'residence_permit':
      return '您的居住证申领已提交，将由居住地社区事务受理服务中心审核。请留意随申办消息，如需现场采集照片或核验材料会另行通知；办理时限以受理部门告知为准。';
    case 'senior_allowance':
      return '您的老年综合津贴申领已提交，将由户籍地街道（乡镇）社区事务受理服务中心审核。审核通过后，津贴按月发放至您的发放账户。';
    case 'housing_fund_rent_withdrawal':
      return '您的住房公积金租房提取申请已提交。公积金中心审核通过后，提取金额将转入您的收款账户，到账时间以公积金中心实际办理为准。';
    default:
      return '您的申请已提交，相关部门将依规办理，进度可在随申办“我的办件”中查看。';
  }
}

export function returnedMessage(note: string): string {
  return `您的申请已退回，原因：${note}。请按提示补充或修改后重新提交。`;
}

export function rejectedMessage(note: string): string {
  return `您的申请未通过审核，说明：${note}。如有疑问可咨询 12345 市民服务热线或前往办事窗口。`;
}
